import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameRecord } from './catalog-write.ts';

// The reference: the records' JSON without their indexes.
function reference(a: object, b: object): boolean {
  const strip = (r: object) => { const { CreateIndex: _c, ModifyIndex: _m, ...rest } = r as Record<string, unknown>; return rest; };
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

test('sameRecord: equal JSON apart from the indexes, field order included', () => {
  const base = { Node: 'n', Address: '10.0.0.1', Meta: { a: '1' }, Tags: ['x'], Port: 0, Weights: { Passing: 1, Warning: 1 } };
  const cases: [object, object][] = [
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, base],
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, { ...base, Address: '10.0.0.2' }],
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, { ...base, Meta: { a: '2' } }],
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, { ...base, Tags: ['x', 'y'] }],
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, { ...base, Extra: 1 }],
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, { ...base, Extra: undefined }],
    [{ ...base, Gone: undefined, CreateIndex: 3, ModifyIndex: 9 }, base],
    [{ Address: '10.0.0.1', Node: 'n', Meta: { a: '1' }, Tags: ['x'], Port: 0, Weights: { Passing: 1, Warning: 1 } }, base],
    [{ ...base, Port: Number.NaN }, { ...base, Port: null }],
    [{ ...base, Port: '0' }, base],
    [{ ...base, Meta: null }, { ...base, Meta: {} }],
    [{ ...base, Weights: { Warning: 1, Passing: 1 } }, base],
  ];
  for (const [a, b] of cases) assert.equal(sameRecord(a, b), reference(a, b), JSON.stringify([a, b]));
  assert.equal(sameRecord(undefined, base), false);
  assert.equal(sameRecord({ ...base, CreateIndex: 1, ModifyIndex: 2 }, base), true);
  assert.equal(sameRecord({ ...base, CreateIndex: 1, ModifyIndex: 2 }, { ...base, Port: 1 }), false);
});
