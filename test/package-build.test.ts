// tools/build.ts's module transform: Node's type stripping plus `.ts` → `.js` specifiers, checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toJs } from '../tools/build.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const SRC = path.join(ROOT, 'src');
const file = path.join(SRC, 'agent', 'x.ts');
const shipped = new Set([path.join(SRC, 'agent', 'a.ts'), path.join(SRC, 'b.ts')]);

test('a module keeps its semantics: types blanked, parentheses of `new (require(x) as T).C()` kept, relative .ts specifiers named .js', () => {
  const missing: string[] = [];
  const js = toJs(file, [
    "import { b, type B } from '../b.ts';",
    "const w = new (require('./a.ts') as typeof import('./a.ts')).C(b as B);",
    "const m = await import(\"./a.ts\");",
  ].join('\n'), shipped, missing);
  assert.deepEqual(missing, []);
  const lines = js.split('\n').map((l) => l.replace(/\s+/g, ' '));
  assert.deepEqual(lines, ["import { b, } from '../b.js';", "const w = new (require('./a.js') ).C(b );", 'const m = await import("./a.js");']);
});

test('a relative .ts specifier naming no shipped module is reported', () => {
  const missing: string[] = [];
  toJs(file, "const t = require('./a.test.ts'); import x from 'pkg/y.ts';", shipped, missing);
  assert.deepEqual(missing, ['src/agent/x.ts: ./a.test.ts']);
});

test('the build run through a symlinked checkout path (node link/tools/build.ts) builds, rather than exiting 0 having done nothing', () => {
  // A two-module tree with the real build script and tsc: its dist/ appears, or not.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-build-'));
  try {
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(path.join(tree, 'tools'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'src', 'cli'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'src', 'filter'));
    fs.copyFileSync(path.join(ROOT, 'tools', 'build.ts'), path.join(tree, 'tools', 'build.ts'));
    fs.writeFileSync(path.join(tree, 'src', 'cli', 'main.ts'), 'export const port: number = 8500;\n');
    fs.writeFileSync(path.join(tree, 'src', 'filter', 'index.ts'), 'export const filter: string = "";\n');
    for (const f of ['parser.generated.js', 'parser.generated.d.ts']) fs.writeFileSync(path.join(tree, 'src', 'filter', f), '');
    fs.writeFileSync(path.join(tree, 'tsconfig.build.json'), JSON.stringify({
      compilerOptions: { declaration: true, emitDeclarationOnly: true, rootDir: 'src', outDir: 'dist', module: 'nodenext', target: 'es2023', types: [] },
      include: ['src'],
    }));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules'));
    fs.symlinkSync(tree, path.join(dir, 'link'));
    const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(dir, 'link', 'tools', 'build.ts')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^build: 2 modules in dist\//);
    assert.ok(fs.existsSync(path.join(tree, 'dist', 'cli', 'main.js')), 'dist/cli/main.js built');
    assert.ok(fs.existsSync(path.join(tree, 'dist', 'cli', 'main.d.ts')), 'dist/cli/main.d.ts built');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
