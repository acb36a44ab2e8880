// Cluster peering with two servers sharing one etcd store (dc1) and a peer datacenter (dc2): a
// peering's stream lives on one server of dc1, yet both answer it ACTIVE with its stream status
// (the holder publishes it to the store); once the holder stops, the other answers FAILING or,
// after the stream is re-established on it, ACTIVE again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { etcdBackedAgents } from './support/etcd-agents.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { httpCaller, type HttpCall } from './support/acl.ts';
import { until } from './support/wait.ts';

const servers = etcdBackedAgents(['server-a', 'server-b']);
let peer: DevAgent;
before(async () => {
  peer = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2', nodeName: 'peer' } });
});
after(async () => {
  await peer?.stop();
});

interface PeeringView { ID: string; State: string; StreamStatus: { ImportedServices: string[] | null; ExportedServices: string[] | null; LastHeartbeat: string | null; LastReceive: string | null } }

const read = async (call: HttpCall, name: string): Promise<PeeringView> => {
  const r = await call('GET', `/v1/peering/${name}`);
  assert.equal(r.status, 200, r.text);
  return r.json as PeeringView;
};

test('both servers of a datacenter answer the stream one of them holds, and the other takes over when it stops', async () => {
  const leaders = await until('a dc1 leader', 20_000, async () => {
    const l = servers.filter((s) => s.agent.leaderSide.election.isLeader());
    return l.length === 1 ? l : undefined;
  });
  // The leader holds both streams (it dials; it is the first address the peer dials) and is stopped.
  const a = leaders[0];
  const b = servers.find((s) => s !== a)!;
  const callA = httpCaller(() => a.httpAddr);
  const callB = httpCaller(() => b.httpAddr);
  const callP = httpCaller(() => peer.httpAddr);

  // dc1 exports a service to dc2 and dc2 one to dc1, over both peerings.
  const exportTo = (call: HttpCall, service: string, consumers: string[]) =>
    call('PUT', '/v1/config', '', { Kind: 'exported-services', Name: 'default', Services: [{ Name: service, Consumers: consumers.map((Peer) => ({ Peer })) }] });
  const register = (call: HttpCall, node: string, service: string) => call('PUT', '/v1/catalog/register', '', {
    Node: node, Address: '10.0.0.1', Service: { ID: `${service}-1`, Service: service, Port: 8080 },
  });
  assert.equal((await register(callA, 'node-web', 'web')).status, 200);
  assert.equal((await exportTo(callA, 'web', ['to-dc2', 'dc2'])).status, 200);
  assert.equal((await register(callP, 'node-db', 'db')).status, 200);
  assert.equal((await exportTo(callP, 'db', ['dc1', 'from-dc1'])).status, 200);

  // dc1 accepts: its token lists both servers, the leader first (so the dialer reaches it).
  const tok = await callA('POST', '/v1/peering/token', '', { PeerName: 'to-dc2', ServerExternalAddresses: [a.httpAddr, b.httpAddr] });
  assert.equal(tok.status, 200, tok.text);
  const est = await callP('POST', '/v1/peering/establish', '', { PeerName: 'dc1', PeeringToken: (tok.json as { PeeringToken: string }).PeeringToken });
  assert.equal(est.status, 200, est.text);
  // dc1 dials: the token from dc2 established through the other server, dialed by dc1's leader.
  const tok2 = await callP('POST', '/v1/peering/token', '', { PeerName: 'from-dc1' });
  assert.equal(tok2.status, 200, tok2.text);
  const est2 = await callB('POST', '/v1/peering/establish', '', { PeerName: 'dc2', PeeringToken: (tok2.json as { PeeringToken: string }).PeeringToken });
  assert.equal(est2.status, 200, est2.text);

  let seen = '';
  const context = { context: () => seen };
  const both = async (name: string, ok: (v: PeeringView) => boolean) => {
    const [ra, rb] = [await read(callA, name), await read(callB, name)];
    seen = `${name}\nA: ${JSON.stringify(ra)}\nB: ${JSON.stringify(rb)}`;
    return ok(ra) && ok(rb) ? [ra, rb] : undefined;
  };
  // Accepted on the leader: the other server answers it ACTIVE, with the services each way and times.
  const [accA, accB] = await until('both dc1 servers answer the accepted peering ACTIVE', 20_000, () => both('to-dc2', (v) =>
    v.State === 'ACTIVE' && v.StreamStatus.ImportedServices?.[0] === 'db' && v.StreamStatus.ExportedServices?.[0] === 'web'), context);
  assert.ok(accB.StreamStatus.LastReceive, 'the holder\'s message times are published');
  assert.deepEqual(accB.StreamStatus.ImportedServices, accA.StreamStatus.ImportedServices);
  // Dialed by the leader: the other server answers it ACTIVE too.
  await until('both dc1 servers answer the dialed peering ACTIVE', 20_000, () => both('dc2', (v) =>
    v.State === 'ACTIVE' && v.StreamStatus.ImportedServices?.[0] === 'db' && v.StreamStatus.ExportedServices?.[0] === 'web'), context);
  const listB = (await callB('GET', '/v1/peerings')).json as { Name: string; State: string }[];
  assert.deepEqual(listB.map((p) => [p.Name, p.State]).sort(), [['dc2', 'ACTIVE'], ['to-dc2', 'ACTIVE']]);

  // Stopped, the leader's streams end with it: the other server does not answer them ACTIVE from a
  // dead holder's record; it answers FAILING until the streams are re-established on it (it now
  // leads and dials; the peer redials its next address), then ACTIVE again.
  const notOwn = new Set<string>();
  await a.stop();
  const stopped = a.agent.config.nodeName;
  await until('the other server sees the stopped one gone', 20_000, async () => !b.agent.leaderSide.election.servers().some((s) => s.Node === stopped));
  const own = (id: string) => b.agent.endpoints.peering.tracker.get(id)?.connected === true;
  for (const name of ['to-dc2', 'dc2']) {
    await until(`the other server answers ${name} ACTIVE on a stream of its own`, 30_000, async () => {
      const id = (await read(callB, name)).ID;
      const before = own(id);
      const v = await read(callB, name);
      const held = own(id);
      if (!before && !held) notOwn.add(v.State);
      seen = `${name}: ${JSON.stringify(v)}\nstates while not held here: ${[...notOwn].join(', ')}`;
      return held && v.State === 'ACTIVE' && v.StreamStatus.ImportedServices?.[0] === 'db' ? v : undefined;
    }, context);
  }
  assert.deepEqual([...notOwn].filter((s) => s !== 'FAILING'), [], 'FAILING, never ACTIVE, while no live server holds the stream');
  // The peer sees both re-established too.
  await until('the peer answers both peerings ACTIVE', 20_000, async () =>
    (await read(callP, 'dc1')).State === 'ACTIVE' && (await read(callP, 'from-dc1')).State === 'ACTIVE');
});
