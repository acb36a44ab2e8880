import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, parseGoDuration, formatGoDuration, FlagError, type FlagDef } from './flags.ts';

const defs: FlagDef[] = [
  { name: 'dev', kind: 'bool', usage: '' },
  { name: 'node', kind: 'string', usage: '' },
  { name: 'http-port', kind: 'int', usage: '' },
  { name: 'config-file', kind: 'list', usage: '', default: [] },
  { name: 'wait', kind: 'duration', usage: '', default: 0 },
];

test('parses Go-style flags and stops at the first argument', () => {
  const p = parseFlags(defs, ['-dev', '--node=n1', '-http-port', '8600', '-config-file', 'a.json', '-config-file=b.hcl', 'kv', '-x']);
  assert.equal(p.values.dev, true);
  assert.equal(p.values.node, 'n1');
  assert.equal(p.values['http-port'], 8600);
  assert.deepEqual(p.values['config-file'], ['a.json', 'b.hcl']);
  assert.deepEqual(p.args, ['kv', '-x']);
  assert.ok(p.given.has('node') && !p.given.has('wait'));
});

test('bool flags take =false and reject junk', () => {
  assert.equal(parseFlags(defs, ['-dev=false']).values.dev, false);
  assert.throws(() => parseFlags(defs, ['-dev=maybe']), FlagError);
});

test('unknown flags and missing values are errors in Go words', () => {
  assert.throws(() => parseFlags(defs, ['-nope']), /flag provided but not defined: -nope/);
  assert.throws(() => parseFlags(defs, ['-node']), /flag needs an argument: -node/);
  assert.deepEqual(parseFlags(defs, ['--', '-dev']).args, ['-dev']);
});

test('Go durations, fractions included', () => {
  assert.equal(parseGoDuration('15s'), 15000);
  assert.equal(parseGoDuration('0.001s'), 1);
  assert.equal(parseGoDuration('1m30s'), 90000);
  assert.equal(parseGoDuration('1.9913771152496338s'), 1991.3771152496338);
  assert.equal(parseGoDuration('1h'), 3600000);
  assert.equal(parseGoDuration('10'), null);
  assert.equal(parseGoDuration('abc'), null);
  assert.equal(parseGoDuration(''), null);
  assert.equal(formatGoDuration(15000), '15s');
  assert.equal(formatGoDuration(90000), '1m30s');
  assert.equal(formatGoDuration(500), '500ms');
  assert.equal(formatGoDuration(3600000), '1h0m0s');
  assert.equal(formatGoDuration(0), '0s');
});
