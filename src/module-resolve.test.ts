import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fastResolve } from './module-resolve.ts';

const SRC = import.meta.dirname;
const ROOT = path.dirname(SRC);

/** Every relative `.ts` specifier in the static and dynamic imports of the launcher and src/ (tests excluded). */
function relativeImports(): Array<{ parent: string; specifier: string }> {
  const files = fs.readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => path.join(SRC, f));
  files.push(path.join(ROOT, 'bin', 'proconsul.js'));
  const out: Array<{ parent: string; specifier: string }> = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)'(\.\.?\/[^']+)'/g)) out.push({ parent: file, specifier: m[1]! });
  }
  return out;
}

test('every relative .ts import in src/ resolves to the existing file Node itself would load', () => {
  const imports = relativeImports();
  assert.ok(imports.length > 1000, `found only ${imports.length} imports`);
  for (const { parent, specifier } of imports) {
    const url = fastResolve(specifier, pathToFileURL(parent).href);
    if (!specifier.endsWith('.ts') || !parent.startsWith(SRC + path.sep)) { assert.equal(url, undefined, specifier); continue; }
    const target = path.resolve(path.dirname(parent), specifier);
    assert.ok(fs.statSync(target, { throwIfNoEntry: false })?.isFile(), `${parent}: ${specifier} is no file`);
    assert.equal(url, pathToFileURL(fs.realpathSync(target)).href, `${parent}: ${specifier}`);
  }
});

test('bare, node:, .js, query, escaped and non-file specifiers are left to Node', () => {
  const parent = pathToFileURL(path.join(SRC, 'agent', 'agent.ts')).href;
  for (const s of ['pino', 'node:fs', './x.js', '../filter/parser.generated.js', './x.ts?v=1', './x?v=.ts', './a#b.ts', './a%2Fb.ts', './a\\b.ts', 'x.ts', '/abs/x.ts']) {
    assert.equal(fastResolve(s, parent), undefined, s);
  }
  assert.equal(fastResolve('./x.ts', 'data:text/javascript,1'), undefined);
  assert.equal(fastResolve('./x.ts', undefined), undefined);
  assert.equal(fastResolve('../errors.ts', parent), pathToFileURL(path.join(SRC, 'errors.ts')).href);
});

test("in the built package (dist/, .js modules) its relative .js specifiers are resolved and .ts ones left to Node", () => {
  const dist = 'file:///usr/lib/node_modules/proconsul/dist/';
  const parent = `${dist}agent/agent.js`;
  assert.equal(fastResolve('../errors.js', parent, dist, '.js'), `${dist}errors.js`);
  assert.equal(fastResolve('../filter/parser.generated.js', parent, dist, '.js'), `${dist}filter/parser.generated.js`);
  for (const s of ['../errors.ts', 'pino', '../../bin/proconsul.js']) assert.equal(fastResolve(s, parent, dist, '.js'), undefined, s);
});

test('imports from or to files outside src/ are left to Node: other code, and this package reached by another path', () => {
  const launcher = pathToFileURL(path.join(ROOT, 'bin', 'proconsul.js')).href;
  assert.equal(fastResolve('../src/cli/main.ts', launcher), undefined);
  assert.equal(fastResolve('./b.ts', 'file:///elsewhere/a.ts'), undefined);
  assert.equal(fastResolve('./errors.ts', `file:///tmp/node_modules/proconsul/src/x.ts`), undefined);
  assert.equal(fastResolve('../../outside.ts', pathToFileURL(path.join(SRC, 'agent', 'agent.ts')).href), undefined);
  assert.equal(fastResolve('../bench/x.ts', pathToFileURL(path.join(SRC, 'index.ts')).href), undefined);
});

test('the launcher reached by a symlinked path that Node keeps (--preserve-symlinks-main) loads src/ from its real path, as Node does', () => {
  // npm link's layout: node_modules/proconsul -> the checkout. Node refuses to strip types under
  // node_modules, so resolving by the symlinked path instead of the real one fails the start.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-link-'));
  try {
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'proconsul'));
    const bin = path.join(dir, 'node_modules', 'proconsul', 'bin', 'proconsul.js');
    const r = spawnSync(process.execPath, ['--preserve-symlinks-main', bin, 'version'], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Proconsul v/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing file or a directory gets Node's own error (ERR_MODULE_NOT_FOUND naming the importer, MODULE_NOT_FOUND for require), not the read's ENOENT", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-missing-'));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    fs.mkdirSync(path.join(dir, 'src', 'x'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', 'x', 'a.ts'), "import '../gone.ts';\n");
    fs.writeFileSync(path.join(dir, 'src', 'b.ts'), "import { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./x/gone.ts');\n");
    fs.mkdirSync(path.join(dir, 'src', 'd.ts'));
    fs.writeFileSync(path.join(dir, 'src', 'c.ts'), "import './d.ts';\n");
    const hookURL = JSON.stringify(pathToFileURL(path.join(SRC, 'module-resolve.ts')).href);
    const root = JSON.stringify(pathToFileURL(path.join(dir, 'src')).href + '/');
    const script = (hook: boolean) => [
      hook ? `(await import(${hookURL})).registerFastResolve(${root});` : '',
      'const out = [];',
      "for (const f of ['x/a.ts', 'b.ts', 'c.ts']) await import(new URL(f, " + root + ")).catch((e) => out.push([e.code, e.message]));",
      'console.log(JSON.stringify(out));',
    ].join('\n');
    const run = (hook: boolean) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(hook)], { encoding: 'utf8', cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as string[][];
    };
    const plain = run(false);
    assert.deepEqual(plain.map(([code]) => code), ['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND', 'ERR_UNSUPPORTED_DIR_IMPORT']);
    assert.match(plain[0]![1]!, /gone\.ts' imported from .*a\.ts$/);
    assert.deepEqual(run(true), plain);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('with the hook registered, the module graph of every CLI command and the agent loads the same files as with the default resolver', () => {
  const hookURL = JSON.stringify(pathToFileURL(path.join(SRC, 'module-resolve.ts')).href);
  const entries = ['registry.ts', 'agent.ts', 'connect-envoy.ts'].map((f) => JSON.stringify(pathToFileURL(path.join(SRC, 'cli', f)).href));
  const script = (hook: boolean) => [
    "import module from 'node:module';",
    'const seen = new Set();',
    'module.registerHooks({ load(url, ctx, next) { seen.add(url); return next(url, ctx); } });',
    hook ? `(await import(${hookURL})).registerFastResolve();` : '',
    ...entries.map((u) => `await import(${u});`),
    "console.log(JSON.stringify([...seen].filter((u) => !u.endsWith('module-resolve.ts')).sort()));",
  ].join('\n');
  const run = (hook: boolean) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(hook)], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as string[];
  };
  const plain = run(false);
  assert.ok(plain.length > 400, `only ${plain.length} modules`);
  assert.deepEqual(run(true), plain);
});
