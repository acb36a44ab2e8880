// Record encoding: a record encoded here comes back from its own bytes without a parse, while
// the bytes themselves look like any other Buffer to everything else that reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import util from 'node:util';
import { decodeRecord, encodeOwnedRecord, encodeRecord, takeRecord } from './records.ts';

test('a record encoded here decodes from its own bytes as the same object; copies are parsed', () => {
  const rec = { Node: 'n1', Address: '10.0.0.1', Meta: { a: 'b' } };
  const bytes = encodeRecord(rec);
  assert.equal(decodeRecord(bytes), rec);
  const copy = Buffer.from(bytes);
  const parsed = decodeRecord<typeof rec>(copy);
  assert.notEqual(parsed, rec);
  assert.deepEqual(parsed, rec);
  assert.deepEqual(decodeRecord(Buffer.from('{"x":1}')), { x: 1 });
});

test('indexes are dropped from what is encoded and stamped', () => {
  const bytes = encodeRecord({ ID: 'a', CreateIndex: 4, ModifyIndex: 5 });
  assert.equal(Buffer.from(bytes).toString(), '{"ID":"a"}');
  assert.deepEqual(decodeRecord(bytes), { ID: 'a' });
});

test('the stamp is invisible on the bytes', () => {
  const bytes = encodeRecord({ ID: 'a' });
  const plain = Buffer.from('{"ID":"a"}');
  assert.deepEqual(Reflect.ownKeys(bytes), Reflect.ownKeys(plain));
  assert.equal(util.inspect(bytes), util.inspect(plain));
  assert.equal(JSON.stringify(bytes), JSON.stringify(plain));
  assert.ok(Buffer.from(bytes).equals(plain));
});

test('an owned record is encoded without its index placeholders and handed over once', () => {
  const rec = { Node: 'n1', Meta: { CreateIndex: 0, ModifyIndex: 0 }, Tags: ['é✓'], CreateIndex: 0, ModifyIndex: 0 };
  const bytes = encodeOwnedRecord(rec);
  assert.equal(Buffer.from(bytes).toString(), '{"Node":"n1","Meta":{"CreateIndex":0,"ModifyIndex":0},"Tags":["é✓"]}');
  assert.equal(takeRecord(bytes), rec);
  // Taken: every later reader parses the bytes.
  assert.equal(takeRecord(bytes), undefined);
  assert.deepEqual(decodeRecord(bytes), { Node: 'n1', Meta: { CreateIndex: 0, ModifyIndex: 0 }, Tags: ['é✓'] });
  assert.notEqual(decodeRecord(bytes), rec);
  // Records encodeRecord stamped, and plain bytes, are never handed over.
  assert.equal(takeRecord(encodeRecord({ ID: 'a' })), undefined);
  assert.equal(takeRecord(Buffer.from('{"ID":"a"}')), undefined);
});

test('an owned record whose indexes are not the last placeholders is encoded like encodeRecord, and not handed over', () => {
  for (const rec of [{ CreateIndex: 0, ModifyIndex: 0, ID: 'a' }, { ID: 'a', CreateIndex: 3, ModifyIndex: 4 }, { CreateIndex: 0, ModifyIndex: 0 }]) {
    const bytes = encodeOwnedRecord(rec);
    assert.equal(Buffer.from(bytes).toString(), Buffer.from(encodeRecord(rec)).toString());
    assert.equal(takeRecord(bytes), undefined);
  }
});
