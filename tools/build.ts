// `npm run build`: dist/ for the published package (Node does not strip types under node_modules).
// tsc type-checks src/ and emits its declarations; the JavaScript is Node's own type stripping of
// each module, the transform a checkout runs, with relative `.ts` specifiers renamed `.js`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

/** Files src/ loads at run time that are not TypeScript modules (the peggy parser and its types). */
const RUNTIME_FILES = ['filter/parser.generated.js', 'filter/parser.generated.d.ts'];

/** A quoted relative specifier ending in `.ts`: imports, dynamic imports, createRequire calls, worker URLs. */
const RELATIVE_TS = /(['"])(\.\.?\/[^'"\n]*?)\.ts\1/g;

/** Every module of src/ the package ships: .ts files other than tests, their helpers (test-*.ts) and testdata. */
export function sourceModules(dir = SRC): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'testdata') out.push(...sourceModules(p)); continue; }
    if (e.name.endsWith('.ts') && !/\.(test|d)\.ts$|^test-/.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * JavaScript for one module: its types blanked by Node's stripper (positions kept, so stack lines
 * match src/) and each relative `.ts` specifier renamed `.js`; `missing` gets specifiers whose
 * target is not another shipped module. tsc 7.0.2's emit was not used: it drops the parentheses
 * of `new (require(x) as T).C()`, which then constructs `require` itself.
 */
export function toJs(file: string, ts: string, shipped: Set<string>, missing: string[]): string {
  const js = module.stripTypeScriptTypes(ts, { mode: 'strip' });
  return js.replace(RELATIVE_TS, (_m, q: string, stem: string) => {
    const target = resolve(dirname(file), `${stem}.ts`);
    if (!shipped.has(target)) missing.push(`${relative(ROOT, file)}: ${stem}.ts`);
    return `${q}${stem}.js${q}`;
  });
}

function run(): void {
  rmSync(DIST, { recursive: true, force: true });
  const tsc = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  const files = sourceModules();
  const shipped = new Set(files);
  const missing: string[] = [];
  for (const f of files) {
    const out = join(DIST, relative(SRC, f)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, toJs(f, readFileSync(f, 'utf8'), shipped, missing));
  }
  for (const f of RUNTIME_FILES) copyFileSync(join(SRC, f), join(DIST, f));
  if (missing.length > 0 || !existsSync(join(DIST, 'cli/main.js'))) {
    process.stderr.write(`build: relative .ts specifiers naming no shipped module:\n  ${missing.join('\n  ')}\n`);
    process.exit(1);
  }
  process.stdout.write(`build: ${files.length} modules in ${relative(ROOT, DIST)}/\n`);
}

// Run as a script, however reached: Node names this module by its real path, argv[1] as typed.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === import.meta.filename) run();
