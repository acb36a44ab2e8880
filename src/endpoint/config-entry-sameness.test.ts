// sameness-group validation on write: member shape, uniqueness, the local partition, one default group per partition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigEntriesTable, CONFIG_PREFIX } from '../state/index.ts';
import { validateEntry } from './config-entry-validate.ts';
import { checkChainGraph, chainGraphGuard } from './config-entry-graph.ts';

const AP1 = { partition: 'ap1', namespace: 'default' };
const group = (members: unknown[], extra: Record<string, unknown> = {}) => ({ Kind: 'sameness-group', Name: 'g', Members: members, ...extra });

function table(entries: Array<Record<string, unknown>>): ConfigEntriesTable {
  const t = new ConfigEntriesTable();
  for (const [i, e] of entries.entries()) {
    const kv = { key: `${CONFIG_PREFIX}${e.Kind}/${e.Name}`, value: Buffer.from(JSON.stringify(e)), createRevision: i + 1, modRevision: i + 1, version: 1 };
    t.apply({ type: 'put', kv } as never);
  }
  return t;
}

test('a member names exactly one of Partition and Peer', () => {
  assert.match(validateEntry('sameness-group', group([{ Partition: 'default', Peer: 'dc2' }])) ?? '', /^Members\[0\]: .*cannot specify both a Partition and a Peer/);
  assert.match(validateEntry('sameness-group', group([{ Partition: 'default' }, {}])) ?? '', /^Members\[1\]: .*must specify either a Partition or a Peer/);
  assert.equal(validateEntry('sameness-group', group([{ Partition: 'default' }, { Peer: 'dc2' }, { Partition: 'ap1' }])), null);
});

test('a member listed twice is refused (partition names fold case)', () => {
  assert.match(validateEntry('sameness-group', group([{ Partition: 'default' }, { Peer: 'dc2' }, { Peer: 'dc2' }])) ?? '', /^Members\[2\]: peer "dc2" is listed more than once/);
  assert.match(validateEntry('sameness-group', group([{ Partition: 'ap1' }, { Partition: 'AP1' }], {}), AP1) ?? '', /^Members\[1\]: partition "AP1" is listed more than once/);
});

test("the entry's own partition must be a member unless IncludeLocal adds it", () => {
  assert.match(validateEntry('sameness-group', group([{ Peer: 'dc2' }])) ?? '', /local partition "default" must be a member/);
  assert.match(validateEntry('sameness-group', group([{ Partition: 'default' }]), AP1) ?? '', /local partition "ap1" must be a member/);
  assert.equal(validateEntry('sameness-group', group([{ Peer: 'dc2' }], { IncludeLocal: true }), AP1), null);
  assert.equal(validateEntry('sameness-group', group([{ Peer: 'dc2' }, { Partition: 'ap1' }]), AP1), null, 'listed anywhere, not only first');
  assert.equal(validateEntry('sameness-group', group([], { IncludeLocal: true })), null);
});

test('Meta is checked as on other kinds', () => {
  assert.match(validateEntry('sameness-group', group([{ Partition: 'default' }], { Meta: { ['k'.repeat(129)]: 'v' } })) ?? '', /Meta key .* exceeds maximum length 128/);
});

test('a partition has one DefaultForFailover group: a second is refused, rewriting the same one or a non-default one is not', () => {
  const t = table([group([{ Partition: 'default' }], { Name: 'first', DefaultForFailover: true }), group([{ Partition: 'default' }], { Name: 'plain' })]);
  assert.throws(() => checkChainGraph(t, 'sameness-group', 'second', group([{ Partition: 'default' }], { Name: 'second', DefaultForFailover: true })),
    /sameness group "first" already has DefaultForFailover set/);
  assert.throws(() => checkChainGraph(t, 'sameness-group', 'plain', group([{ Partition: 'default' }], { Name: 'plain', DefaultForFailover: true })), /"first"/);
  checkChainGraph(t, 'sameness-group', 'first', group([{ Partition: 'default' }, { Peer: 'dc2' }], { Name: 'first', DefaultForFailover: true }));
  checkChainGraph(t, 'sameness-group', 'second', group([{ Partition: 'default' }], { Name: 'second' }));
  checkChainGraph(t, 'sameness-group', 'first', null);
  checkChainGraph(table([]), 'sameness-group', 'only', group([{ Partition: 'default' }], { Name: 'only', DefaultForFailover: true }));
});

test('sameness-group writes take the graph guard, so two default groups written at once cannot both commit', () => {
  assert.equal(chainGraphGuard('sameness-group', 7).compares.length, 1);
  assert.equal(chainGraphGuard('exported-services', 7).compares.length, 0);
});
