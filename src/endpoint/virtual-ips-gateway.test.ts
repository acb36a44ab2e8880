// Terminating gateway VIPs as Consul's state store assigns them (TestLeader_... terminating gateway
// VIP case, updateTerminatingGatewayVirtualIPs, freeServiceVirtualIP): linked services get VIPs, the
// gateway's instances carry them as consul-virtual:<service>, a link keeps a VIP, an unlink frees it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from '../../test/support/agent.ts';
import { DEFAULT_ENT } from '../state/index.ts';
import type { NodeService } from '../api/catalog-types.ts';

describe('terminating gateway virtual IPs', () => {
  let dev: DevAgent;
  before(async () => {
    dev = await startDevAgent();
  });
  after(() => dev.stop());

  const vip = (name: string) => dev.agent.replica.virtualIPs.address(DEFAULT_ENT, name);
  const register = (svc: Partial<NodeService>) => dev.agent.endpoints.catalog.register({ Node: 'gw-node', Address: '10.9.0.1', Service: svc as NodeService });
  const deregister = (id: string) => dev.agent.endpoints.catalog.deregister({ Node: 'gw-node', ServiceID: id });
  const tags = (id: string) => Object.fromEntries(Object.entries(dev.agent.replica.catalog.services.get('gw-node')?.get(id)?.TaggedAddresses ?? {})
    .filter(([k]) => k.startsWith('consul-virtual')));
  const link = (gateway: string, ...services: string[]) => dev.agent.endpoints.configEntries.apply({ Kind: 'terminating-gateway', Name: gateway, Services: services.map((Name) => ({ Name })) }, undefined);
  const gateway = (id: string, name: string) => register({ ID: id, Service: name, Kind: 'terminating-gateway', Port: 8443 } as Partial<NodeService>);

  test('linked services get VIPs, the gateway\'s instances carry them, a link keeps a VIP and an unlink frees it', async () => {
    await gateway('tgw-1', 'tgw');
    await register({ ID: 'api', Service: 'api', Port: 80 });
    assert.deepEqual(tags('tgw-1'), {}, 'no entry: no VIP tags');
    await link('tgw', 'api', 'baz');
    const [api, baz] = [vip('api'), vip('baz')];
    assert.ok(api?.startsWith('240.') && baz?.startsWith('240.') && api !== baz, `${api} ${baz}`);
    assert.deepEqual(tags('tgw-1'), { 'consul-virtual:api': { Address: api, Port: 0 }, 'consul-virtual:baz': { Address: baz, Port: 0 } });
    assert.deepEqual(tags('api'), {}, 'the linked service\'s own instance is not tagged');
    await gateway('tgw-2', 'tgw');
    assert.deepEqual(tags('tgw-2'), tags('tgw-1'), 'a new gateway instance takes the tags');

    await deregister('api');
    assert.equal(vip('api'), api, 'the link keeps the VIP after the last instance');
    await link('tgw', 'baz');
    assert.equal(vip('api'), undefined, 'unlinked with no instance: freed');
    assert.deepEqual(tags('tgw-1'), { 'consul-virtual:baz': { Address: baz, Port: 0 } });
    assert.deepEqual(tags('tgw-2'), tags('tgw-1'));

    await link('other-tgw', 'baz');
    await link('tgw');
    assert.equal(vip('baz'), baz, 'another gateway still links it');
    assert.deepEqual(tags('tgw-1'), {});
    await link('other-tgw');
    assert.equal(vip('baz'), undefined);

    // A proxy for the service keeps its VIP through an unlink (Consul checks the connect index first).
    await register({ ID: 'pdest-proxy', Service: 'pdest-proxy', Kind: 'connect-proxy', Port: 2, Proxy: { DestinationServiceName: 'pdest' } } as Partial<NodeService>);
    const pdest = vip('pdest');
    await link('tgw', 'pdest');
    await link('tgw');
    assert.equal(vip('pdest'), pdest);

    // Deleting the entry leaves the VIPs and the instances' tags, as Consul's deleteConfigEntryTxn does.
    await link('tgw', 'gone');
    const gone = vip('gone');
    await dev.agent.endpoints.configEntries.delete('terminating-gateway', 'tgw', undefined);
    assert.equal(vip('gone'), gone);
    assert.deepEqual(tags('tgw-1'), { 'consul-virtual:gone': { Address: gone, Port: 0 } });
  });

  test('an unlink and the last instance\'s removal at once free the VIP (each pins what keeps it)', async () => {
    for (let round = 0; round < 4; round++) {
      const name = `qux${round}`;
      await register({ ID: name, Service: name, Port: 1 });
      await link('race-tgw', name);
      assert.ok(vip(name));
      await Promise.all(round % 2 ? [link('race-tgw'), deregister(name)] : [deregister(name), link('race-tgw')]);
      assert.equal(vip(name), undefined, `round ${round}: no VIP left with no instance and no link`);
    }
  });

  test('two gateways linking new services at once get distinct VIPs', async () => {
    await Promise.all([link('par-a', 'p1', 'p2'), link('par-b', 'p3', 'p4')]);
    const all = ['p1', 'p2', 'p3', 'p4'].map(vip);
    assert.equal(new Set(all).size, 4, all.join(' '));
  });
});
