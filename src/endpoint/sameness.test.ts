// Sameness groups as lookups read them: members in failover order (IncludeLocal first, repeats
// once), group names matched as DNS spells them, and partition exports by partition or group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigEntriesTable, configEntryKey, type Replica } from '../state/index.ts';
import type { WatchEvent } from '../store/index.ts';
import { exportedToPartition, groupMembers, samenessGroup } from './sameness.ts';

let rev = 1;
function put(key: string, rec: object): WatchEvent {
  rev++;
  return { type: 'put', kv: { key, value: Buffer.from(JSON.stringify(rec)), createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}

function replicaWith(...entries: Record<string, unknown>[]): Replica {
  const configEntries = new ConfigEntriesTable();
  for (const e of entries) configEntries.apply(put(configEntryKey(String(e.Kind), String(e.Name)), e));
  return { configEntries } as unknown as Replica;
}

const entry = (fields: Record<string, unknown>) => ({ Kind: 'sameness-group', Name: 'g', CreateIndex: 1, ModifyIndex: 1, ...fields });

test('members: the local partition first under IncludeLocal, each member once, partitions folded', () => {
  assert.deepEqual(groupMembers(entry({ Members: [{ Partition: 'AP1' }, { Peer: 'p1' }] }), 'default'), [{ partition: 'ap1' }, { peer: 'p1' }]);
  assert.deepEqual(groupMembers(entry({ IncludeLocal: true, Members: [{ Peer: 'p1' }, { Partition: 'default' }, { Peer: 'p1' }, {}] }), 'default'),
    [{ partition: 'default' }, { peer: 'p1' }]);
  assert.deepEqual(groupMembers(entry({}), 'ap1'), []);
});

test('a group is found by its name as written or as DNS lowers it; none is undefined', () => {
  const replica = replicaWith(entry({ Name: 'Mine', DefaultForFailover: true, Members: [{ Peer: 'p1' }] }));
  assert.deepEqual(samenessGroup(replica, 'default', 'Mine'), { name: 'Mine', defaultForFailover: true, members: [{ peer: 'p1' }] });
  assert.equal(samenessGroup(replica, 'default', 'mine')?.name, 'Mine');
  assert.equal(samenessGroup(replica, 'default', 'other'), undefined);
  assert.equal(samenessGroup(replicaWith(), 'default', 'mine'), undefined);
});

test('a partition member counts only for services it exports to the asking partition, by partition or by group, never consul', () => {
  const replica = replicaWith(
    entry({ Name: 'grp', Members: [{ Partition: 'default' }, { Partition: 'ap2' }] }),
    {
      Kind: 'exported-services', Name: 'default', Services: [
        { Name: 'web', Consumers: [{ Partition: 'AP1' }, { Peer: 'p9' }] },
        { Name: 'db', Namespace: 'team', Consumers: [{ SamenessGroup: 'grp' }] },
        { Name: '*', Namespace: 'all', Consumers: [{ Partition: 'ap3' }] },
      ],
    },
  );
  assert.equal(exportedToPartition(replica, 'default', 'default', 'web', 'ap1'), true);
  assert.equal(exportedToPartition(replica, 'default', 'default', 'WEB', 'ap1'), true, 'service names fold');
  assert.equal(exportedToPartition(replica, 'default', 'default', 'web', 'ap2'), false);
  assert.equal(exportedToPartition(replica, 'default', 'team', 'web', 'ap1'), false, 'another namespace');
  assert.equal(exportedToPartition(replica, 'default', 'team', 'db', 'ap2'), true, 'a group consumer names its partition members');
  assert.equal(exportedToPartition(replica, 'default', 'default', 'db', 'ap2'), false);
  assert.equal(exportedToPartition(replica, 'default', 'all', 'anything', 'ap3'), true, 'a wildcard service');
  assert.equal(exportedToPartition(replica, 'default', 'all', 'consul', 'ap3'), false, 'never the consul service (Consul never exports it)');
  assert.equal(exportedToPartition(replica, 'default', 'default', 'api', 'default'), true, 'a partition sees its own services');
  assert.equal(exportedToPartition(replicaWith(), 'default', 'default', 'web', 'ap1'), false);
});
