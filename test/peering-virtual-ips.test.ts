// Virtual IPs of services imported over cluster peering (issue #5), between two dev agents: an
// imported connect-native service gets a VIP of its own on the importer, apart from the local
// service of the same name and from local VIPs assigned at the same time; dig answers
// `<svc>.virtual.<peer>`; proxies are not exported (so they give the importer no VIP); the VIP
// survives the importer's restart and is freed when the exporter stops exporting the service, when
// its last instance goes, and when the peering is deleted.
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { httpCaller } from './support/acl.ts';
import { until } from './support/wait.ts';
import { dig } from './support/dns.ts';
import { tmpDir } from './support/tmp-dir.ts';

const port = (a: DevAgent): number => Number(a.agent.dnsAddresses().udp[0].split(':').pop());

/** The A records dig answers for a name (NOERROR expected). */
async function vips(a: DevAgent, name: string): Promise<string[]> {
  const r = await dig(port(a), name, 'A');
  assert.equal(r.status, 'NOERROR', name);
  return r.answer.map((x) => x[4]);
}

const native = (node: string, id: string, service: string) => ({
  Node: node, Address: '10.0.0.1', Service: { ID: id, Service: service, Port: 8443, Connect: { Native: true } },
});

test('imported mesh services get their own VIPs on the importer, answered by <svc>.virtual.<peer>, freed when they go', async () => {
  const a = await startDevAgent({ config: { datacenter: 'dc1', primaryDatacenter: 'dc1', nodeName: 'node-a', dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } });
  const bConfig = {
    datacenter: 'dc2', primaryDatacenter: 'dc2', nodeName: 'node-b', nodeId: randomUUID(),
    dataDir: tmpDir('proconsul-peer-vip-'), store: { backend: 'embedded' as const },
    dnsAddrs: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 0 }],
  };
  let b = await startDevAgent({ config: bConfig });
  const callA = httpCaller(() => a.httpAddr);
  const callB = httpCaller(() => b.httpAddr);
  const ok = async (p: Promise<{ status: number; text: string }>) => assert.equal((await p).status, 200, (await p).text);
  const exportA = (names: string[]) => ok(callA('PUT', '/v1/config', '', {
    Kind: 'exported-services', Name: 'default', Services: names.map((Name) => ({ Name, Consumers: [{ Peer: 'cluster-b' }] })),
  }));
  const imported = async (name: string) => {
    const r = await callB('GET', `/v1/health/service/${name}?peer=cluster-a`);
    return (r.json as { Service: { TaggedAddresses?: Record<string, { Address: string }> } }[]).map((x) => x.Service.TaggedAddresses?.['consul-virtual']?.Address);
  };
  try {
    for (const [node, id, svc] of [['n1', 'web-1', 'web'], ['n2', 'web-2', 'web'], ['n1', 'api-1', 'api']]) await ok(callA('PUT', '/v1/catalog/register', '', native(node, id, svc)));
    // A proxy, and a typical service named like one: Consul's exporter sends neither.
    await ok(callA('PUT', '/v1/catalog/register', '', {
      Node: 'n1', Address: '10.0.0.1', Service: { ID: 'web-proxy', Service: 'web-sidecar-proxy', Kind: 'connect-proxy', Port: 21000, Proxy: { DestinationServiceName: 'web' } },
    }));
    await ok(callA('PUT', '/v1/catalog/register', '', { Node: 'n1', Address: '10.0.0.1', Service: { ID: 'cache-proxy', Service: 'cache-sidecar-proxy', Port: 1 } }));
    await exportA(['web', 'api', 'web-sidecar-proxy', 'cache-sidecar-proxy']);
    const tok = await callA('POST', '/v1/peering/token', '', { PeerName: 'cluster-b' });
    const token = (tok.json as { PeeringToken: string }).PeeringToken;
    // Local mesh services registered on B while the imports land: no VIP is handed out twice.
    await Promise.all([
      ok(callB('POST', '/v1/peering/establish', '', { PeerName: 'cluster-a', PeeringToken: token })),
      ...['web', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6'].map((s) => ok(callB('PUT', '/v1/catalog/register', '', native('local', `${s}-1`, s)))),
    ]);
    const webVip = (await until('web imported with a VIP', 10_000, async () => {
      const v = await imported('web');
      return v.length === 2 && v[0] ? v : undefined;
    }))[0];
    assert.deepEqual(await imported('web'), [webVip, webVip], 'both instances carry it');
    const apiVip = (await until('api imported with a VIP', 10_000, async () => (await imported('api'))[0]));
    assert.deepEqual([await imported('web-sidecar-proxy'), await imported('cache-sidecar-proxy')], [[], []], 'no proxy exported');
    const local = await Promise.all(['web', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6'].map(async (s) => (await vips(b, `${s}.virtual.consul`))[0]));
    const all = [...local, webVip, apiVip];
    assert.equal(new Set(all).size, 9, `distinct: ${all.join(' ')}`);
    assert.ok(all.every((ip) => /^240\.0\.0\.\d+$/.test(ip ?? '')), all.join(' '));

    // dig: the peer label (and its .peer form) answers the imported VIP, the bare name the local one.
    assert.deepEqual(await vips(b, 'web.virtual.cluster-a.consul'), [webVip]);
    assert.deepEqual(await vips(b, 'web.virtual.cluster-a.peer.consul'), [webVip]);
    assert.deepEqual(await vips(b, 'web.virtual.consul'), [local[0]]);
    assert.notEqual(local[0], webVip);
    assert.deepEqual(await vips(b, 'web.virtual.other-peer.consul'), [], 'a peer that exports nothing');
    assert.deepEqual(await vips(a, 'web.virtual.consul'), ['240.0.0.1'], 'the exporter has its own VIP for web');

    await b.stop();
    b = await startDevAgent({ config: bConfig });
    assert.deepEqual(await vips(b, 'web.virtual.cluster-a.consul'), [webVip], 'kept across a restart');
    assert.deepEqual(await vips(b, 'api.virtual.cluster-a.consul'), [apiVip]);

    // A stops exporting api: its VIP on B is freed.
    await exportA(['web']);
    await until('api VIP freed', 10_000, async () => ((await vips(b, 'api.virtual.cluster-a.consul')).length === 0 ? true : undefined));
    // web's instances go one by one: kept while one remains, freed with the last.
    await ok(callA('PUT', '/v1/catalog/deregister', '', { Node: 'n1', ServiceID: 'web-1' }));
    await until('one web left', 10_000, async () => ((await imported('web')).length === 1 ? true : undefined));
    assert.deepEqual(await vips(b, 'web.virtual.cluster-a.consul'), [webVip]);
    await ok(callA('PUT', '/v1/catalog/deregister', '', { Node: 'n2', ServiceID: 'web-2' }));
    await until('web VIP freed', 10_000, async () => ((await vips(b, 'web.virtual.cluster-a.consul')).length === 0 ? true : undefined));

    // Back again, then the peering is deleted: freed with it.
    await ok(callA('PUT', '/v1/catalog/register', '', native('n1', 'web-1', 'web')));
    const again = await until('web back with a VIP', 10_000, async () => (await vips(b, 'web.virtual.cluster-a.consul'))[0]);
    assert.ok(!local.includes(again), `not a local VIP: ${again}`);
    await ok(callB('DELETE', '/v1/peering/cluster-a'));
    await until('web VIP freed with the peering', 10_000, async () => ((await vips(b, 'web.virtual.cluster-a.consul')).length === 0 ? true : undefined));
    assert.deepEqual(b.agent.replica.virtualIPs.ofPeer('cluster-a'), [], 'no row left for the peer');
    assert.deepEqual(await vips(b, 'web.virtual.consul'), [local[0]], 'the local one stays');
  } finally {
    await b.stop();
    await a.stop();
  }
});
