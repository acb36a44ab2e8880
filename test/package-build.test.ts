// tools/build.ts's module transform: Node's type stripping plus `.ts` → `.js` specifiers, checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { toJs } from '../tools/build.ts';

const SRC = path.resolve(import.meta.dirname, '..', 'src');
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
