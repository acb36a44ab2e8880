// The virtual IP table: rows by tenant and folded name with their address precomputed, freed
// offsets lowest first, the counter, manual VIPs by partition, and a reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchEvent } from '../store/index.ts';
import { VirtualIPsTable, vipAddress, vipFreeKey, vipServiceKey, VIP_COUNTER_KEY } from './virtual-ips.ts';

const D = { partition: 'default', namespace: 'default' };
let rev = 0;
const put = (key: string, value: object): WatchEvent => {
  rev++;
  return { type: 'put', kv: { key, value: Buffer.from(JSON.stringify(value)), createRevision: rev, modRevision: rev, version: 1, lease: 0 } } as WatchEvent;
};
const del = (key: string): WatchEvent => {
  rev++;
  return { type: 'delete', kv: { key, value: new Uint8Array(0), createRevision: 0, modRevision: rev, version: 0, lease: 0 } } as WatchEvent;
};

test('addresses are 240.0.0.0 plus the offset, across octets', () => {
  assert.deepEqual([1, 255, 256, 65536, 0x0ffffffe].map(vipAddress), ['240.0.0.1', '240.0.0.255', '240.0.1.0', '240.1.0.0', '255.255.255.254']);
  assert.equal(vipFreeKey(0x1a), 'vip/free/0000001a');
  assert.equal(vipServiceKey({ partition: 'AP', namespace: 'Team' }, 'Web/X'), 'vip/service/ap/team/web%2Fx');
});

test('rows by tenant and folded name, freed offsets lowest first, the counter, manual VIPs by partition', () => {
  const t = new VirtualIPsTable();
  const row = (Service: string, Offset: number, ent = D, ManualIPs: string[] | null = null) => ({ Service, Namespace: ent.namespace, Partition: ent.partition, Offset, ManualIPs });
  assert.equal(t.apply(put(vipServiceKey(D, 'Web'), row('Web', 1, D, ['10.0.0.1']))), 'default/default/web');
  t.apply(put(vipServiceKey({ partition: 'default', namespace: 'team' }, 'web'), row('web', 2, { partition: 'default', namespace: 'team' })));
  t.apply(put(VIP_COUNTER_KEY, { Offset: 2 }));
  assert.equal(t.address(D, 'WEB'), '240.0.0.1');
  assert.equal(t.address({ partition: 'default', namespace: 'team' }, 'web'), '240.0.0.2');
  assert.equal(t.address({ partition: 'other', namespace: 'default' }, 'web'), undefined);
  assert.equal(t.counter?.Offset, 2);
  assert.deepEqual(t.withManualIP('DEFAULT', '10.0.0.1').map((r) => r.Service), ['Web']);
  assert.deepEqual(t.withManualIP('other', '10.0.0.1'), []);

  assert.equal(t.lowestFree(), undefined);
  t.apply(put(vipFreeKey(9), {}));
  const at = rev;
  t.apply(put(vipFreeKey(3), {}));
  t.apply(put(vipFreeKey(300), {}));
  assert.deepEqual(t.lowestFree(), { offset: 3, revision: at + 1 });
  assert.deepEqual(t.freeOffsets().map(([o]) => o), [3, 9, 300]);
  t.apply(del(vipFreeKey(3)));
  assert.equal(t.lowestFree()?.offset, 9);
  t.apply(del(vipServiceKey(D, 'web')));
  assert.equal(t.address(D, 'web'), undefined);
  assert.ok(t.index >= rev);

  t.reset();
  assert.deepEqual([t.address({ partition: 'default', namespace: 'team' }, 'web'), t.lowestFree(), t.counter, t.index], [undefined, undefined, undefined, 0]);
});
