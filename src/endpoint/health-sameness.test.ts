// Health reads through a sameness group over a memory store: the first member (in failover order)
// with instances answers, `passing` and ACLs judged per member, a partition member only for a
// service it exports to the asking partition; unknown and non-default groups are Consul's 500s.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import { Replica, coordinateKey, encodeRecord, namespaceKey, partitionKey } from '../state/index.ts';
import { ensureBuiltinTenancy } from '../leader/tenancy-builtins.ts';
import { soloLeadership, type EndpointDeps } from './deps.ts';
import { CatalogEndpoint } from './catalog.ts';
import { ConfigEntryEndpoint } from './config-entries.ts';
import { HealthEndpoint } from './health.ts';
import { GatewayEndpoint } from './gateway-services.ts';
import { defaultQueryOptions, type QueryOptions } from './query.ts';
import type { AclIdentity } from './acl-resolver.ts';

async function setup() {
  const clock = new ManualClock(Date.parse('2026-11-26T12:00:00Z'));
  const store = new MemoryStore({ clock });
  await store.open();
  const replica = new Replica({ store, clock, logger: silentLogger() });
  await replica.start();
  const deps: EndpointDeps = {
    store, replica, clock, logger: silentLogger(), leadership: soloLeadership('127.0.0.1:8300'), random: Math.random,
    config: { datacenter: 'dc1', nodeName: 'n1', kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, defaultQueryTime: 300_000, maxQueryTime: 600_000, sessionTtlMin: 10_000 },
  };
  await ensureBuiltinTenancy({ store, replica });
  const res = await store.txn({ success: [
    { type: 'put', key: partitionKey('ap1'), value: encodeRecord({ Name: 'ap1' }) },
    { type: 'put', key: namespaceKey({ partition: 'default', namespace: 'ns2' }), value: encodeRecord({ Name: 'ns2' }) },
    { type: 'put', key: namespaceKey({ partition: 'ap1', namespace: 'ns2' }), value: encodeRecord({ Name: 'ns2' }) },
  ] });
  assert.ok(res.succeeded);
  await replica.waitFor(res.revision);
  const catalog = new CatalogEndpoint(deps);
  const config = new ConfigEntryEndpoint(deps);
  const reg = (node: string, address: string, partition: string, status = 'passing') => catalog.register({
    Node: node, Address: address, ...(partition === 'default' ? {} : { Partition: partition }),
    Service: { ID: 'web', Service: 'web', Port: 80 }, Check: { CheckID: 'alive', Name: 'alive', ServiceID: 'web', Status: status },
  } as never, undefined, { partition, namespace: 'ns2' });
  /** ap1 exports web (ns2) to the default partition. */
  const exportWeb = () => config.apply({ Kind: 'exported-services', Name: 'ap1', Services: [{ Name: 'web', Namespace: 'ns2', Consumers: [{ Partition: 'default' }] }] }, undefined, undefined, { partition: 'ap1', namespace: 'default' });
  /** The default partition's group `mine`: itself, then ap1. */
  const groupMine = () => config.apply({ Kind: 'sameness-group', Name: 'mine', DefaultForFailover: true, Members: [{ Partition: 'default' }, { Partition: 'ap1' }] }, undefined);
  return { store, replica, health: new HealthEndpoint(deps), gateways: new GatewayEndpoint(deps), catalog, config, reg, exportWeb, groupMine, stop: () => replica.stop() };
}

const opts = (partition = 'default', authz?: AclIdentity): QueryOptions => ({ ...defaultQueryOptions(), ent: { partition, namespace: 'ns2' }, entNamed: true, authz });
const nodes = (rows: { Node: { Node: string } }[]) => rows.map((r) => r.Node.Node);

test('the first member with instances answers; the local one first, then a partition exporting the service', async () => {
  const s = await setup();
  try {
    await s.reg('n-default', '10.0.0.1', 'default');
    await s.reg('n-ap1', '10.1.0.1', 'ap1');
    await s.groupMine();
    const first = await s.health.sameness('mine', 'web', opts());
    assert.deepEqual(nodes(first.value), ['n-default']);
    assert.equal((first.value[0].Service as { Partition?: string }).Partition, 'default', 'answers carry their tenancy');

    await s.reg('n-default', '10.0.0.1', 'default', 'warning');
    assert.deepEqual(nodes((await s.health.sameness('mine', 'web', opts())).value), ['n-default'], 'a warning instance still answers');
    assert.deepEqual(nodes((await s.health.sameness('mine', 'web', opts(), { passing: true })).value), [], 'ap1 does not export web yet');

    await s.exportWeb();
    const next = await s.health.sameness('mine', 'web', opts(), { passing: true });
    assert.deepEqual(nodes(next.value), ['n-ap1'], '?passing is judged per member: the warning local member gives way');
    assert.equal((next.value[0].Node as { Partition?: string }).Partition, 'ap1');
    assert.ok(next.meta.index > first.meta.index);
  } finally {
    s.stop();
  }
});

test("a later member is watched only while the members before it have no passing instance (the DNS .sg answer skips critical ones)", async () => {
  const s = await setup();
  try {
    await s.reg('n-default', '10.0.0.1', 'default');
    await s.reg('n-ap1', '10.1.0.1', 'ap1');
    await s.exportWeb();
    await s.groupMine();
    // As Consul's walk stops at the answering member: a blocked read does not wake for ap1.
    const healthy = await s.health.sameness('mine', 'web', opts());
    await s.reg('n-ap1', '10.1.0.1', 'ap1', 'critical');
    const still = await s.health.sameness('mine', 'web', opts());
    assert.deepEqual([nodes(still.value), still.meta.index], [['n-default'], healthy.meta.index]);

    // The local instance critical: it still answers, but a DNS answer (the client agent's cache
    // refreshes .sg answers on this read) comes from ap1, whose changes must move the index.
    await s.reg('n-default', '10.0.0.1', 'default', 'critical');
    const before = await s.health.sameness('mine', 'web', opts());
    await s.reg('n-ap1', '10.1.0.1', 'ap1', 'passing');
    const after = await s.health.sameness('mine', 'web', opts());
    assert.deepEqual(nodes(after.value), ['n-default']);
    assert.ok(after.meta.index > before.meta.index, `${after.meta.index} > ${before.meta.index}`);
  } finally {
    s.stop();
  }
});

test("ingress: the first member with an ingress gateway fronting the service answers with the gateway's instances", async () => {
  const s = await setup();
  try {
    await s.reg('n-default', '10.0.0.1', 'default');
    await s.exportWeb();
    await s.groupMine();
    assert.deepEqual((await s.health.sameness('mine', 'web', opts(), { ingress: true })).value, [], 'no member has a gateway');
    const ap1 = { partition: 'ap1', namespace: 'ns2' };
    await s.config.apply({ Kind: 'ingress-gateway', Name: 'ig', Listeners: [{ Port: 8080, Protocol: 'tcp', Services: [{ Name: 'web' }] }] }, undefined, undefined, ap1);
    await s.catalog.register({ Node: 'n-gw', Address: '10.1.0.9', Partition: 'ap1', Service: { ID: 'ig', Service: 'ig', Kind: 'ingress-gateway', Port: 8080 } } as never, undefined, ap1);
    const r = await s.health.sameness('mine', 'web', opts(), { ingress: true });
    assert.deepEqual(r.value.map((x) => [x.Node.Node, x.Service.Service, (x.Service as { Partition?: string }).Partition]), [['n-gw', 'ig', 'ap1']]);
  } finally {
    s.stop();
  }
});

test('ACLs filter each member: a member the token may not read gives way to the next', async () => {
  const s = await setup();
  try {
    await s.reg('n-default', '10.0.0.1', 'default');
    await s.reg('n-ap1', '10.1.0.1', 'ap1');
    await s.exportWeb();
    await s.groupMine();
    const onlyAp1 = { tokenGiven: true, authorizer: { serviceRead: () => 'allow', nodeRead: (n: string) => (n === 'n-ap1' ? 'allow' : 'deny') } } as unknown as AclIdentity;
    const r = await s.health.sameness('mine', 'web', opts('default', onlyAp1));
    assert.deepEqual([nodes(r.value), r.meta.filteredByACLs], [['n-ap1'], true]);
  } finally {
    s.stop();
  }
});

test("the asking partition's group is read: unknown is 'Sameness Group not found', one without DefaultForFailover Consul's other 500", async () => {
  const s = await setup();
  try {
    await s.config.apply({ Kind: 'sameness-group', Name: 'off', Members: [{ Partition: 'default' }] }, undefined);
    await assert.rejects(s.health.sameness('nope', 'web', opts()), { name: 'InternalError', message: 'Sameness Group not found' });
    await assert.rejects(s.health.sameness('off', 'web', opts()),
      { name: 'InternalError', message: 'Sameness Group must have DefaultForFailover set to true in order to use this endpoint' });
    await assert.rejects(s.health.sameness('off', 'web', opts('ap1')), { message: 'Sameness Group not found' }, "ap1 has no group 'off'");
  } finally {
    s.stop();
  }
});

test("X-Consul-Results-Filtered-By-ACLs tells of every instance ACLs hid, as Consul filters by ACLs before ?filter and ?passing", async () => {
  const s = await setup();
  try {
    await s.reg('n-default', '10.0.0.1', 'default');
    await s.reg('n-hidden', '10.0.0.2', 'default', 'critical');
    await s.config.apply({ Kind: 'sameness-group', Name: 'mine', DefaultForFailover: true, Members: [{ Partition: 'default' }] }, undefined);
    const hideOne = { tokenGiven: true, authorizer: { serviceRead: () => 'allow', nodeRead: (n: string) => (n === 'n-hidden' ? 'deny' : 'allow') } } as unknown as AclIdentity;
    const ask = async (f: { passing?: boolean; filter?: string }) => {
      const viaGroup = await s.health.sameness('mine', 'web', opts('default', hideOne), f);
      const plain = await s.health.service('web', opts('default', hideOne), f);
      return [[nodes(viaGroup.value), viaGroup.meta.filteredByACLs], [nodes(plain.value), plain.meta.filteredByACLs]];
    };
    const both = (v: unknown) => [v, v];
    assert.deepEqual(await ask({ passing: true }), both([['n-default'], true]), 'the hidden instance is critical too');
    assert.deepEqual(await ask({ filter: 'Node.Node != "n-hidden"' }), both([['n-default'], true]), 'the filter would drop the hidden one');
    // Otherwise the header would tell whether a hidden instance matches a filter.
    assert.deepEqual(await ask({ filter: 'Node.Node == "n-hidden"' }), both([[], true]));
  } finally {
    s.stop();
  }
});

test('a member partition or peer that does not exist is skipped', async () => {
  const s = await setup();
  try {
    await s.reg('n-default', '10.0.0.1', 'default');
    await s.config.apply({ Kind: 'sameness-group', Name: 'mine', DefaultForFailover: true, Members: [{ Partition: 'ghost' }, { Peer: 'nowhere' }, { Partition: 'default' }] }, undefined);
    assert.deepEqual(nodes((await s.health.sameness('mine', 'web', opts())).value), ['n-default']);
  } finally {
    s.stop();
  }
});

test('health/ingress sorts the gateways by ?near (through a group and without), as Consul sorts every health read', async () => {
  const s = await setup();
  try {
    const coord = (x: number) => ({ Vec: [x, 0, 0, 0, 0, 0, 0, 0], Error: 0.5, Adjustment: 0, Height: 1e-5 });
    const res = await s.store.txn({ success: [['src', 0], ['a-far', 0.5], ['b-near', 0.001]].map(([node, x]) => (
      { type: 'put' as const, key: coordinateKey(node as string, ''), value: encodeRecord({ Node: node, Segment: '', Coord: coord(x as number) }) })) });
    await s.replica.waitFor(res.revision);
    for (const ent of [{ partition: 'default', namespace: 'ns2' }, undefined]) {
      await s.config.apply({ Kind: 'ingress-gateway', Name: 'ig', Listeners: [{ Port: 8080, Protocol: 'tcp', Services: [{ Name: 'web' }] }] }, undefined, undefined, ent);
      for (const node of ['a-far', 'b-near']) {
        await s.catalog.register({ Node: node, Address: '10.0.0.9', Service: { ID: 'ig', Service: 'ig', Kind: 'ingress-gateway', Port: 8080 } } as never, undefined, ent);
      }
    }
    await s.config.apply({ Kind: 'sameness-group', Name: 'mine', DefaultForFailover: true, Members: [{ Partition: 'default' }] }, undefined);
    assert.deepEqual(nodes((await s.health.sameness('mine', 'web', opts(), { ingress: true })).value), ['a-far', 'b-near']);
    assert.deepEqual(nodes((await s.health.sameness('mine', 'web', opts(), { ingress: true, near: 'src' })).value), ['b-near', 'a-far'], 'through the group');
    assert.deepEqual(nodes((await s.gateways.ingress('web', opts(), { near: 'src' })).value), ['b-near', 'a-far'], 'in a namespace');
    assert.deepEqual(nodes((await s.gateways.ingress('web', defaultQueryOptions(), { near: 'src' })).value), ['b-near', 'a-far'], 'in the default namespace');
  } finally {
    s.stop();
  }
});
