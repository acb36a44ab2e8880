// Virtual IP assignment as Consul's state store does it (TestStateStore_EnsureService_VirtualIPAssign,
// _ReassignFreedVIPs, _AssignManualVirtualIPs): mesh services from 240.0.0.1 up, the tagged
// address, the lowest freed IP reused before the counter moves, manual VIPs moved between services.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from '../../test/support/agent.ts';
import { DEFAULT_ENT } from '../state/index.ts';
import type { NodeService } from '../api/catalog-types.ts';

describe('virtual IPs', () => {
  let dev: DevAgent;
  before(async () => {
    dev = await startDevAgent();
  });
  after(() => dev.stop());

  const vip = (name: string) => dev.agent.replica.virtualIPs.address(DEFAULT_ENT, name);
  const register = (svc: Partial<NodeService>) => dev.agent.endpoints.catalog.register({ Node: 'vip-node', Address: '10.8.0.1', Service: svc as NodeService });
  const deregister = (id: string) => dev.agent.endpoints.catalog.deregister({ Node: 'vip-node', ServiceID: id });
  const tagged = (id: string) => dev.agent.replica.catalog.services.get('vip-node')?.get(id)?.TaggedAddresses?.['consul-virtual'];

  test('native services and proxies\' destinations get VIPs in order; a freed one is reused first', async () => {
    await register({ ID: 'plain', Service: 'plain', Port: 1 });
    assert.equal(vip('plain'), undefined, 'a service outside the mesh has none');
    assert.equal(tagged('plain'), undefined);

    await register({ ID: 'foo', Service: 'foo', Port: 1111, Connect: { Native: true } });
    assert.equal(vip('foo'), '240.0.0.1');
    assert.deepEqual(tagged('foo'), { Address: '240.0.0.1', Port: 1111 });

    await register({ ID: 'redis-proxy', Service: 'redis-proxy', Kind: 'connect-proxy', Port: 2222, Proxy: { DestinationServiceName: 'redis' } } as Partial<NodeService>);
    assert.equal(vip('redis'), '240.0.0.2', 'the destination\'s VIP');
    assert.equal(vip('redis-proxy'), undefined);
    assert.deepEqual(tagged('redis-proxy'), { Address: '240.0.0.2', Port: 2222 });

    // Re-registering changes nothing; a second proxy instance shares the VIP.
    const rev = dev.agent.replica.virtualIPs.index;
    await register({ ID: 'foo', Service: 'foo', Port: 1111, Connect: { Native: true } });
    assert.equal(dev.agent.replica.virtualIPs.index, rev, 'no VIP write for a re-registration');
    await register({ ID: 'redis-proxy2', Service: 'redis-proxy', Kind: 'connect-proxy', Port: 3333, Proxy: { DestinationServiceName: 'redis' } } as Partial<NodeService>);
    assert.deepEqual(tagged('redis-proxy2'), { Address: '240.0.0.2', Port: 3333 });

    // The last instance of foo goes: its VIP is freed and the next service takes it.
    await deregister('foo');
    assert.equal(vip('foo'), undefined);
    await register({ ID: 'web-proxy', Service: 'web-proxy', Kind: 'connect-proxy', Port: 4444, Proxy: { DestinationServiceName: 'web' } } as Partial<NodeService>);
    assert.equal(vip('web'), '240.0.0.1', 'the freed VIP');
    await register({ ID: 'frontend', Service: 'frontend', Port: 5, Connect: { Native: true } });
    assert.equal(vip('frontend'), '240.0.0.3', 'no freed VIP left: the counter');

    // A proxy going away keeps its destination's VIP (the proxy's own name has none).
    await deregister('redis-proxy');
    await deregister('redis-proxy2');
    assert.equal(vip('redis'), '240.0.0.2');
  });

  test('a config entry naming the service keeps its VIP after the last instance; deleting the node frees the others', async () => {
    await register({ ID: 'api', Service: 'api', Port: 8080, Connect: { Native: true } });
    const api = vip('api');
    assert.ok(api);
    await dev.agent.endpoints.configEntries.apply({ Kind: 'service-defaults', Name: 'api', Protocol: 'http' }, undefined);
    await deregister('api');
    assert.equal(vip('api'), api, 'kept: a service-defaults entry names it');
    await dev.agent.endpoints.catalog.deregister({ Node: 'vip-node' });
    assert.equal(vip('frontend'), undefined, 'freed with the node');
    // As in Consul, only an instance named web frees web's VIP: its proxies going away do not.
    assert.equal(vip('web'), '240.0.0.1');
  });

  test('concurrent registrations of new mesh services get distinct VIPs (the counter and freed rows are pinned)', async () => {
    const names = Array.from({ length: 24 }, (_, i) => `race-${i}`);
    await Promise.all(names.map((name, i) => dev.agent.endpoints.catalog.register({
      Node: `race-node-${i}`, Address: `10.9.1.${i + 1}`, Service: { ID: name, Service: name, Port: 1, Connect: { Native: true } } as Partial<NodeService> as NodeService,
    })));
    const got = names.map((n) => vip(n));
    assert.equal(got.every((a) => a?.startsWith('240.')), true, JSON.stringify(got));
    assert.equal(new Set(got).size, names.length, 'no VIP handed out twice');
    await Promise.all(names.map((_, i) => dev.agent.endpoints.catalog.deregister({ Node: `race-node-${i}` })));
    assert.equal(names.some((n) => vip(n) !== undefined), false, 'all freed');
  });

  test('the last instances removed concurrently free the VIP (each delete pins the instances it leaves)', async () => {
    const nodes = ['pair-node-0', 'pair-node-1', 'pair-node-2'];
    for (const [i, Node] of nodes.entries()) {
      await dev.agent.endpoints.catalog.register({ Node, Address: `10.9.2.${i + 1}`, Service: { ID: 'pair', Service: 'pair', Port: 1, Connect: { Native: true } } as Partial<NodeService> as NodeService });
    }
    assert.ok(vip('pair'));
    await Promise.all(nodes.map((Node, i) => (i === 0
      ? dev.agent.endpoints.catalog.deregister({ Node })
      : dev.agent.endpoints.catalog.deregister({ Node, ServiceID: 'pair' }))));
    assert.equal(dev.agent.replica.catalog.byName.get('pair')?.size ?? 0, 0);
    assert.equal(vip('pair'), undefined, 'no instance and no entry left: freed');

    // The last instance removed while a new one arrives (either sent first): the new one's tagged
    // address is the VIP the service keeps.
    for (const removeFirst of [true, false]) {
      await dev.agent.endpoints.catalog.register({ Node: 'pair-node-0', Address: '10.9.2.1', Service: { ID: 'pair', Service: 'pair', Port: 1, Connect: { Native: true } } as Partial<NodeService> as NodeService });
      const writes = [
        () => dev.agent.endpoints.catalog.deregister({ Node: 'pair-node-0', ServiceID: 'pair' }),
        () => dev.agent.endpoints.catalog.register({ Node: 'pair-node-1', Address: '10.9.2.2', Service: { ID: 'pair', Service: 'pair', Port: 1, Connect: { Native: true } } as Partial<NodeService> as NodeService }),
      ];
      await Promise.all((removeFirst ? writes : writes.reverse()).map((w) => w()));
      const held = dev.agent.replica.catalog.services.get('pair-node-1')?.get('pair')?.TaggedAddresses?.['consul-virtual']?.Address;
      assert.ok(held && held === vip('pair'), `remove first: ${removeFirst}: instance ${held}, row ${vip('pair')}`);
      await dev.agent.endpoints.catalog.deregister({ Node: 'pair-node-1', ServiceID: 'pair' });
      assert.equal(vip('pair'), undefined);
    }

    // The last instance and the resolver that also held the VIP, deleted at once (either sent first).
    for (const entryFirst of [false, true]) {
      await dev.agent.endpoints.catalog.register({ Node: 'pair-node-0', Address: '10.9.2.1', Service: { ID: 'pair', Service: 'pair', Port: 1 } as Partial<NodeService> as NodeService });
      await dev.agent.endpoints.configEntries.apply({ Kind: 'service-resolver', Name: 'pair' }, undefined);
      assert.ok(vip('pair'));
      const deletes = [() => dev.agent.endpoints.catalog.deregister({ Node: 'pair-node-0' }), () => dev.agent.endpoints.configEntries.delete('service-resolver', 'pair', undefined)];
      await Promise.all((entryFirst ? deletes.reverse() : deletes).map((d) => d()));
      assert.equal(vip('pair'), undefined, `the instance and the entry gone at once (entry first: ${entryFirst}): freed`);
    }
  });

  test('/v1/txn: two txns deleting the last two instances at once free the VIP', async () => {
    for (const Node of ['tpair-0', 'tpair-1']) {
      await dev.agent.endpoints.catalog.register({ Node, Address: '10.9.3.1', Service: { ID: 'tpair', Service: 'tpair', Port: 1, Connect: { Native: true } } as Partial<NodeService> as NodeService });
    }
    assert.ok(vip('tpair'));
    const del = (Node: string) => dev.agent.endpoints.txn.apply([{ Service: { Verb: 'delete', Node, Service: { ID: 'tpair' } } as never }], {} as never);
    const outcomes = await Promise.all([del('tpair-0'), del('tpair-1')]);
    assert.deepEqual(outcomes.map((o) => o.errors), [null, null]);
    assert.equal(vip('tpair'), undefined, 'no instance left: freed');
  });

  test('/v1/txn service ops take VIPs (two in one txn get two) and free them with the last instance, not when the txn re-adds one', async () => {
    const txn = async (ops: unknown[]) => {
      const res = await fetch(`http://${dev.httpAddr}/v1/txn`, { method: 'PUT', body: JSON.stringify(ops) });
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { Results: { Service?: NodeService }[] }).Results;
    };
    const set = (id: string, name = id) => ({ Service: { Verb: 'set', Node: 'txn-node', Service: { ID: id, Service: name, Port: 5, Connect: { Native: true } } } });
    const del = (id: string) => ({ Service: { Verb: 'delete', Node: 'txn-node', Service: { ID: id } } });
    await dev.agent.endpoints.catalog.register({ Node: 'txn-node', Address: '10.9.2.1' });
    const results = await txn([set('t1'), set('t2'), set('t1b', 't1')]);
    const [a1, a2] = [vip('t1'), vip('t2')];
    assert.ok(a1 && a2 && a1 !== a2, `${a1} ${a2}`);
    assert.deepEqual(results.map((r) => r.Service?.TaggedAddresses?.['consul-virtual']?.Address), [a1, a2, a1]);
    await txn([del('t1'), set('t1c', 't1')]);
    assert.equal(vip('t1'), a1, 'an instance of t1 is left');
    await txn([del('t1b'), del('t1c'), del('t2')]);
    assert.equal(vip('t1'), undefined);
    assert.equal(vip('t2'), undefined);
    await txn([set('t3')]);
    assert.equal(vip('t3'), [a1, a2].sort((x, y) => Number(x.split('.')[3]) - Number(y.split('.')[3]))[0], 'the lowest freed VIP');
    await dev.agent.endpoints.catalog.deregister({ Node: 'txn-node' });
  });

  test('a resolver, router or splitter gives its service a VIP; deleting it frees the VIP unless instances or other entries hold it', async () => {
    const entries = dev.agent.endpoints.configEntries;
    await entries.apply({ Kind: 'service-resolver', Name: 'routed' }, undefined);
    const routed = vip('routed');
    assert.ok(routed?.startsWith('240.'), 'assigned with no instance');
    await entries.apply({ Kind: 'service-resolver', Name: 'routed', ConnectTimeout: '5s' }, undefined);
    assert.equal(vip('routed'), routed, 'an update keeps it');
    await entries.delete('service-resolver', 'routed', undefined);
    assert.equal(vip('routed'), undefined, 'freed with the entry');

    await register({ ID: 'held', Service: 'held', Port: 1 });
    await entries.apply({ Kind: 'service-resolver', Name: 'held' }, undefined);
    assert.ok(vip('held'));
    await entries.delete('service-resolver', 'held', undefined);
    assert.ok(vip('held'), 'an instance holds it');
    await deregister('held');
    assert.equal(vip('held'), undefined, 'then its last instance frees it');
  });

  test('manual VIPs (PUT /v1/internal/service-virtual-ip): only for a service with a VIP; an address moves from the service holding it', async () => {
    const put = async (body: unknown) => {
      const res = await fetch(`http://${dev.httpAddr}/v1/internal/service-virtual-ip`, { method: 'PUT', body: JSON.stringify(body) });
      return { status: res.status, body: res.status === 200 ? await res.json() : await res.text() };
    };
    assert.deepEqual(await put({ Service: 'nothing', ManualVIPs: ['7.7.7.7'] }), { status: 200, body: { Found: false, UnassignedFrom: null } });
    await register({ ID: 'm1', Service: 'm1', Port: 1, Connect: { Native: true } });
    await register({ ID: 'm2', Service: 'm2', Port: 1, Connect: { Native: true } });
    assert.deepEqual(await put({ Service: 'm1', ManualVIPs: ['7.7.7.7', '8.8.8.8'] }), { status: 200, body: { Found: true, UnassignedFrom: null } }, "nothing unassigned: null, as Consul's nil slice");
    assert.deepEqual(await put({ service: 'm2', manualvips: ['7.7.7.7', '9.9.9.9'] }),
      { status: 200, body: { Found: true, UnassignedFrom: [{ ServiceName: { Name: 'm1' }, Peer: '' }] } });
    assert.deepEqual(dev.agent.replica.virtualIPs.service(DEFAULT_ENT, 'm1')?.ManualIPs, ['8.8.8.8']);
    assert.deepEqual(dev.agent.replica.virtualIPs.service(DEFAULT_ENT, 'm2')?.ManualIPs, ['7.7.7.7', '9.9.9.9']);
    // The compiled chain carries both, and a blocking read of it wakes when they change.
    const chain = async (index = 0) => {
      const res = await fetch(`http://${dev.httpAddr}/v1/discovery-chain/m2?index=${index}&wait=5s`);
      return { index: Number(res.headers.get('x-consul-index')), chain: ((await res.json()) as { Chain: Record<string, unknown> }).Chain };
    };
    const before = await chain();
    assert.deepEqual([before.chain.AutoVirtualIPs, before.chain.ManualVirtualIPs], [[vip('m2')], ['7.7.7.7', '9.9.9.9']]);
    // A new instance re-writes the VIP's row unchanged: the chain's index stays, its readers sleep on.
    await register({ ID: 'm2b', Service: 'm2', Port: 2, Connect: { Native: true } });
    assert.equal((await chain()).index, before.index, 'a new instance does not move the chain');
    const woken = chain(before.index);
    await put({ Service: 'm2', ManualVIPs: ['9.9.9.9'] });
    const after = await woken;
    assert.ok(after.index > before.index);
    assert.deepEqual(after.chain.ManualVirtualIPs, ['9.9.9.9']);
    assert.equal((await chain()).chain.ServiceName, 'm2');
    const plain = await (await fetch(`http://${dev.httpAddr}/v1/discovery-chain/no-vip`)).json() as { Chain: object };
    assert.equal('AutoVirtualIPs' in plain.Chain, false, 'a service without a VIP row: no VIP fields');
    assert.deepEqual(await put({ Service: 'm1', ManualVIPs: [] }), { status: 500, body: 'must provide at least one manual virtual IP' });
    assert.deepEqual(await put({ Service: 'm1', ManualVIPs: ['::1'] }), { status: 500, body: '"::1" is not a valid IPv4 address' });
    // Consul's error names net.ParseIP(ip).String(): the canonical IPv6 text, "<nil>" for no address.
    for (const [bad, shown] of [['::ffff:1', '::ffff:1'], ['2001:DB8:0:0::1', '2001:db8::1'], ['01.2.3.4', '<nil>'], ['::ffff:1.2.3.4%eth0', '<nil>'], ['nope', '<nil>']]) {
      assert.deepEqual(await put({ Service: 'm1', ManualVIPs: [bad] }), { status: 500, body: `"${shown}" is not a valid IPv4 address` }, bad);
    }
    // Go's ParseIP(ip).To4() takes an IPv4-mapped IPv6 address; the text is kept as given (it is the manual VIP's key).
    assert.equal((await put({ Service: 'm2', ManualVIPs: ['::ffff:10.1.2.3', '9.9.9.9', '::ffff:10.1.2.3'] })).status, 200, 'a duplicate is dropped');
    assert.deepEqual((await chain()).chain.ManualVirtualIPs, ['::ffff:10.1.2.3', '9.9.9.9']);
    assert.equal((await put({ Service: 'm1', ManualVIPs: 'x' })).status, 400);
  });
});
