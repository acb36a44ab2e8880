// Cluster peering between two independent dev agents (separate datacenters and stores) on
// 127.0.0.1: a token from A established on B over the HTTP API, services exported each way and
// read with `?peer=` (blocking reads woken by a health change on the exporter), Consul's error
// texts, and a deletion that removes the imported data and terminates the other end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { httpCaller, type HttpCall } from './support/acl.ts';
import { until } from './support/wait.ts';
import { dig } from './support/dns.ts';
import { runCliCaptured } from './support/cli.ts';

describe('cluster peering between two agents', () => {
  let a: DevAgent;
  let b: DevAgent;
  let callA: HttpCall;
  let callB: HttpCall;

  before(async () => {
    a = await startDevAgent({ config: { datacenter: 'dc1', primaryDatacenter: 'dc1', nodeName: 'node-a' } });
    b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2', nodeName: 'node-b', dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } });
    callA = httpCaller(() => a.httpAddr);
    callB = httpCaller(() => b.httpAddr);
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  const exportTo = (call: HttpCall, service: string, peer: string) =>
    call('PUT', '/v1/config', '', { Kind: 'exported-services', Name: 'default', Services: [{ Name: service, Consumers: [{ Peer: peer }] }] });
  const register = (call: HttpCall, node: string, service: string, status: string) => call('PUT', '/v1/catalog/register', '', {
    Node: node, Address: '10.0.0.1', Service: { ID: `${service}-1`, Service: service, Port: 8080, Tags: ['v1'] },
    Check: { CheckID: `${service}-check`, Name: 'check', Status: status, ServiceID: `${service}-1` },
  });

  test('a token from A established on B brings the peering up and A\'s exports to B', async () => {
    const tok = await callA('POST', '/v1/peering/token', '', { PeerName: 'cluster-b', Meta: { env: 'test' } });
    assert.equal(tok.status, 200, tok.text);
    const token = JSON.parse(Buffer.from((tok.json as { PeeringToken: string }).PeeringToken, 'base64').toString());
    assert.deepEqual(Object.keys(token), ['CA', 'ManualServerAddresses', 'ServerAddresses', 'ServerName', 'PeerID', 'EstablishmentSecret', 'Remote']);
    assert.equal(token.CA, null);
    assert.deepEqual(token.ServerAddresses, [a.httpAddr]);
    assert.match(token.ServerName, /^server\.dc1\.peering\..+\.consul$/);
    assert.deepEqual(token.Remote, { Partition: 'default', Datacenter: 'dc1' });
    const pending = await callA('GET', '/v1/peering/cluster-b');
    assert.equal(pending.status, 200);
    assert.equal((pending.json as { State: string }).State, 'PENDING');
    assert.equal((pending.json as { ID: string }).ID, token.PeerID);

    assert.equal((await register(callA, 'node-web', 'web', 'passing')).status, 200);
    assert.equal((await exportTo(callA, 'web', 'cluster-b')).status, 200);

    const est = await callB('POST', '/v1/peering/establish', '', { PeerName: 'cluster-a', PeeringToken: (tok.json as { PeeringToken: string }).PeeringToken });
    assert.equal(est.status, 200, est.text);
    assert.equal(est.text, '{}');

    let seen = '';
    const rows = await until('web imported on B', 10_000, async () => {
      const r = await callB('GET', '/v1/health/service/web?peer=cluster-a');
      seen = `health: ${r.text}\nB: ${(await callB('GET', '/v1/peerings')).text}\nA: ${(await callA('GET', '/v1/peerings')).text}`;
      const list = r.json as { Node: { Node: string; PeerName: string }; Service: { Service: string; PeerName: string }; Checks: { Status: string; PeerName: string }[] }[];
      return list.length === 1 ? list : undefined;
    }, { context: () => seen });
    assert.equal(rows[0].Node.Node, 'node-web');
    assert.equal(rows[0].Node.PeerName, 'cluster-a');
    assert.equal(rows[0].Service.PeerName, 'cluster-a');
    assert.equal(rows[0].Checks[0].Status, 'passing');
    assert.equal(rows[0].Checks[0].PeerName, 'cluster-a');
    // The local catalog does not show the imported service.
    assert.deepEqual((await callB('GET', '/v1/health/service/web')).json, []);

    const onB = await until('B sees the peering ACTIVE', 10_000, async () => {
      const r = (await callB('GET', '/v1/peering/cluster-a')).json as Record<string, unknown>;
      return r.State === 'ACTIVE' ? r : undefined;
    });
    assert.equal(onB.PeerID, token.PeerID);
    assert.deepEqual(onB.PeerServerAddresses, [a.httpAddr]);
    assert.deepEqual(onB.Remote, { Partition: 'default', Datacenter: 'dc1' });
    const statusB = onB.StreamStatus as Record<string, unknown>;
    assert.deepEqual(statusB.ImportedServices, ['web']);
    assert.ok(statusB.LastHeartbeat && statusB.LastReceive);
    const onA = await until('A sees the peering ACTIVE with the dialer\'s datacenter', 10_000, async () => {
      const r = (await callA('GET', '/v1/peering/cluster-b')).json as Record<string, unknown>;
      // The dialer heartbeats at once, as the acceptor does.
      const beat = (r.StreamStatus as { LastHeartbeat: string | null }).LastHeartbeat;
      return r.State === 'ACTIVE' && (r.Remote as { Datacenter: string }).Datacenter === 'dc2' && beat ? r : undefined;
    });
    assert.deepEqual((onA.StreamStatus as Record<string, unknown>).ExportedServices, ['web']);
    assert.deepEqual(onA.Meta, { env: 'test' });
    const list = (await callB('GET', '/v1/peerings')).json as { Name: string }[];
    assert.deepEqual(list.map((p) => p.Name), ['cluster-a']);
  });

  test('catalog reads with ?peer= answer the imported instances', async () => {
    const svc = (await callB('GET', '/v1/catalog/service/web?peer=cluster-a')).json as { ServiceName: string; PeerName: string; Node: string }[];
    assert.deepEqual(svc.map((s) => [s.ServiceName, s.Node, s.PeerName]), [['web', 'node-web', 'cluster-a']]);
    assert.deepEqual((await callB('GET', '/v1/catalog/services?peer=cluster-a')).json, { web: ['v1'] });
    assert.deepEqual((await callB('GET', '/v1/health/service/web?peer=nobody')).json, []);
    const checks = (await callB('GET', '/v1/health/checks/web?peer=cluster-a')).json as { CheckID: string; Node: string; PeerName: string }[];
    assert.deepEqual(checks.map((c) => [c.CheckID, c.Node, c.PeerName]), [['web-check', 'node-web', 'cluster-a']]);
    const nodes = (await callB('GET', '/v1/catalog/nodes?peer=cluster-a')).json as { Node: string; PeerName: string }[];
    assert.deepEqual(nodes.map((n) => [n.Node, n.PeerName]), [['node-web', 'cluster-a']]);
  });

  test('health/connect with ?peer= answers from the peer\'s imports, never the local mesh', async () => {
    // B has its own mesh endpoint for web; asked about cluster-a's, it must not answer with it.
    const local = await callB('PUT', '/v1/catalog/register', '', {
      Node: 'node-b-mesh', Address: '10.1.0.1',
      Service: { ID: 'web-native', Service: 'web', Port: 9090, Connect: { Native: true } },
    });
    assert.equal(local.status, 200, local.text);
    assert.equal(((await callB('GET', '/v1/health/connect/web')).json as unknown[]).length, 1);
    // cluster-a's web has no mesh endpoint (no sidecar, not native).
    assert.deepEqual((await callB('GET', '/v1/health/connect/web?peer=cluster-a')).json, []);
    await callB('PUT', '/v1/catalog/deregister', '', { Node: 'node-b-mesh' });
  });

  test('prepared queries run on a peer\'s exports: the query\'s Peer, or a failover target', async () => {
    const make = async (body: object) => ((await callB('POST', '/v1/query', '', body)).json as { ID: string }).ID;
    const failoverId = await make({ Name: 'web-fo', Service: { Service: 'web', Failover: { Targets: [{ Peer: 'nobody' }, { Peer: 'cluster-a' }] } } });
    const ran = (await callB('GET', `/v1/query/${failoverId}/execute`)).json as { Nodes: { Node: { Node: string; PeerName: string } }[]; PeerName: string; Failovers: number; Datacenter: string };
    assert.deepEqual([ran.PeerName, ran.Failovers, ran.Datacenter], ['cluster-a', 2, 'dc2']);
    assert.deepEqual(ran.Nodes.map((n) => [n.Node.Node, n.Node.PeerName]), [['node-web', 'cluster-a']]);
    const direct = await make({ Name: 'web-peer', Service: { Service: 'web', Peer: 'cluster-a' } });
    const d = (await callB('GET', `/v1/query/${direct}/execute`)).json as { Nodes: unknown[]; PeerName: string; Failovers: number };
    assert.deepEqual([d.Nodes.length, d.PeerName, d.Failovers], [1, 'cluster-a', 0]);
    for (const id of [failoverId, direct]) assert.equal((await callB('DELETE', `/v1/query/${id}`)).status, 200);
  });

  test('DNS answers <service>.service.<peer>.peer with the imported instances', async () => {
    const port = Number(b.agent.dnsAddresses().udp[0].split(':').pop());
    const a4 = await dig(port, 'web.service.cluster-a.peer.consul', 'A');
    assert.equal(a4.status, 'NOERROR');
    assert.deepEqual(a4.answer.map((r) => [r[0], r[3], r[4]]), [['web.service.cluster-a.peer.consul.', 'A', '10.0.0.1']]);
    const srv = await dig(port, 'v1.web.service.cluster-a.peer.consul', 'SRV');
    assert.deepEqual(srv.answer.map((r) => r.slice(3)), [['SRV', '1', '1', '8080', 'node-web.node.cluster-a.peer.default.ap.consul.']]);
    // The SRV target resolves: a node lookup under the peer's name, with or without the partition.
    for (const n of ['node-web.node.cluster-a.peer.default.ap.consul', 'NODE-web.node.cluster-a.peer.consul']) {
      const a = await dig(port, n, 'A');
      assert.deepEqual(a.answer.map((r) => [r[3], r[4]]), [['A', '10.0.0.1']], n);
    }
    assert.equal((await dig(port, 'node-web.node.nobody.peer.consul', 'A')).status, 'NXDOMAIN');
    assert.equal((await dig(port, 'web.service.nobody.peer.consul', 'A')).status, 'NXDOMAIN');
    assert.equal((await dig(port, 'web.service.consul', 'A')).status, 'NXDOMAIN');
  });

  test('a health change on A wakes a blocking read on B', async () => {
    const first = await callB('GET', '/v1/health/service/web?peer=cluster-a');
    const index = Number(first.headers.get('x-consul-index'));
    assert.ok(index > 0);
    const waiting = callB('GET', `/v1/health/service/web?peer=cluster-a&index=${index}&wait=30s`);
    assert.equal((await register(callA, 'node-web', 'web', 'critical')).status, 200);
    const woke = await waiting;
    assert.ok(Number(woke.headers.get('x-consul-index')) > index);
    const rows = woke.json as { Checks: { Status: string }[] }[];
    assert.equal(rows[0].Checks[0].Status, 'critical');
    const passing = await callB('GET', '/v1/health/service/web?peer=cluster-a&passing');
    assert.deepEqual(passing.json, []);
  });

  test('B exports to A over the same peering', async () => {
    assert.equal((await register(callB, 'node-api', 'api', 'passing')).status, 200);
    assert.equal((await exportTo(callB, 'api', 'cluster-a')).status, 200);
    const rows = await until('api imported on A', 10_000, async () => {
      const list = (await callA('GET', '/v1/health/service/api?peer=cluster-b')).json as { Service: { PeerName: string } }[];
      return list.length === 1 ? list : undefined;
    });
    assert.equal(rows[0].Service.PeerName, 'cluster-b');
  });

  test('Consul\'s errors for bad requests', async () => {
    const own = ((await callA('POST', '/v1/peering/token', '', { PeerName: 'self' })).json as { PeeringToken: string }).PeeringToken;
    const self = await callA('POST', '/v1/peering/establish', '', { PeerName: 'loop', PeeringToken: own });
    assert.equal(self.status, 500);
    assert.match(self.text, /^cannot create a peering within the same cluster "server\.dc1\.peering\..*"\. Refer to the `exported-services` documentation/);
    const badName = await callA('POST', '/v1/peering/token', '', { PeerName: 'Bad_Name' });
    assert.equal(badName.status, 500);
    assert.equal(badName.text, "Bad_Name is not a valid peer name: a valid peering name must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character");
    assert.equal((await callA('POST', '/v1/peering/token', '', {})).text, 'PeerName is required in the payload when generating a new peering token.');
    assert.equal((await callA('POST', '/v1/peering/establish', '', { PeerName: 'x' })).text, 'PeeringToken is required in the payload when establishing a peering.');
    const missing = await callA('GET', '/v1/peering/zzz');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, 'Peering not found for "zzz"');
    // cluster-b is an acceptor on A: it cannot also dial.
    const fromB = ((await callB('POST', '/v1/peering/token', '', { PeerName: 'other' })).json as { PeeringToken: string }).PeeringToken;
    const dial = await callA('POST', '/v1/peering/establish', '', { PeerName: 'cluster-b', PeeringToken: fromB });
    assert.equal(dial.status, 500);
    assert.equal(dial.text, 'cannot create peering with name: "cluster-b"; there is an existing peering expecting to be dialed');
    const garbage = await callB('POST', '/v1/peering/establish', '', { PeerName: 'x', PeeringToken: '+++/+++' });
    assert.match(garbage.text, /^failed to decode token: illegal base64 data/);
    assert.equal((await callA('PUT', '/v1/peering/zzz')).status, 405);
    assert.equal((await callA('DELETE', '/v1/peering/self')).status, 200);
    assert.equal((await callB('DELETE', '/v1/peering/other')).status, 200);
  });

  test('the peering CLI commands', async () => {
    const onA = { CONSUL_HTTP_ADDR: a.httpAddr };
    const onB = { CONSUL_HTTP_ADDR: b.httpAddr };
    const list = await runCliCaptured(['peering', 'list'], onB);
    assert.equal(list.code, 0, list.err);
    assert.equal(list.out, 'Name       State   Imported Svcs  Exported Svcs  Meta\ncluster-a  ACTIVE  1              1\n');
    const listed = JSON.parse((await runCliCaptured(['peering', 'list', '-format=json'], onB)).out) as { Name: string }[];
    assert.deepEqual(listed.map((p) => p.Name), ['cluster-a']);
    const read = await runCliCaptured(['peering', 'read', '-name', 'cluster-a'], onB);
    assert.equal(read.code, 0, read.err);
    assert.match(read.out, /^Name:         cluster-a\nID:           [0-9a-f-]{36}\nState:        ACTIVE\n\nPeer ID:               [0-9a-f-]{36}\n/);
    assert.match(read.out, /\nPeer CA Pems:          0\nPeer Server Addresses:\n    127\.0\.0\.1:\d+\nImported Services: 1\nExported Services: 1\n\nLast Heartbeat:    \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC\n/);
    assert.match(read.out, /\nCreate Index: \d+\nModify Index: \d+\n\n$/);
    assert.deepEqual(await runCliCaptured(['peering', 'read', '-name', 'nope'], onB), { code: 1, out: '', err: 'No peering with name nope found.\n' });
    assert.deepEqual(await runCliCaptured(['peering', 'read'], onB), { code: 1, out: '', err: 'Missing the required -name flag\n' });
    assert.deepEqual(await runCliCaptured(['peering', 'exported-services', '-name', 'cluster-b'], onA), { code: 0, out: 'web\n', err: '' });
    assert.equal((await runCliCaptured(['peering', 'exported-services', '-name', 'cluster-b', '-format=json'], onA)).out, '[{"ID":"web"}]\n');
    assert.equal((await runCliCaptured(['peering', 'list', '-format=yaml'], onA)).err, 'Invalid format, valid formats are {json|pretty}\n');

    // The token carries the external address, which the dialer then dials.
    const gen = await runCliCaptured(['peering', 'generate-token', '-name', 'cli-b', '-meta', 'team=edge', '-server-external-addresses', `127.0.0.1:${a.httpAddr.split(':')[1]}`], onA);
    assert.equal(gen.code, 0, gen.err);
    assert.deepEqual(JSON.parse(Buffer.from(gen.out.trim(), 'base64').toString()).ManualServerAddresses, [`127.0.0.1:${a.httpAddr.split(':')[1]}`]);
    const est = await runCliCaptured(['peering', 'establish', '-name', 'cli-a', '-peering-token', gen.out.trim()], onB);
    assert.deepEqual(est, { code: 0, out: 'Successfully established peering connection with cli-a\n', err: '' });
    assert.match((await runCliCaptured(['peering', 'list'], onA)).out, /\ncli-b +(PENDING|ACTIVE) +0 +\d +team=edge\n/);
    await until('cli-a ACTIVE through the external address', 10_000, async () => ((await callB('GET', '/v1/peering/cli-a')).json as { State: string }).State === 'ACTIVE');
    const reused = await runCliCaptured(['peering', 'establish', '-name', 'cli-a2', '-peering-token', gen.out.trim()], onB);
    assert.equal(reused.code, 1);
    assert.match(reused.err, /^Error establishing peering for cli-a2: Unexpected response code: 403 \(a new peering token must be generated: invalid peering establishment secret\)\n$/);
    const json = JSON.parse((await runCliCaptured(['peering', 'generate-token', '-name', 'cli-b', '-format=json'], onA)).out) as { PeeringToken: string };
    assert.ok(json.PeeringToken.length > 0);
    assert.deepEqual(await runCliCaptured(['peering', 'delete', '-name', 'cli-a'], onB), { code: 0, out: 'Successfully submitted peering connection, cli-a, for deletion\n', err: '' });
    assert.equal((await runCliCaptured(['peering', 'delete', '-name', 'cli-a2'], onB)).code, 0);
    await until('cli-b is TERMINATED on A', 10_000, async () => ((await callA('GET', '/v1/peering/cli-b')).json as { State: string }).State === 'TERMINATED');
    assert.equal((await callA('DELETE', '/v1/peering/cli-b')).status, 200);
  });

  test('deleting the peering on B removes its imports and terminates A\'s end', async () => {
    const del = await callB('DELETE', '/v1/peering/cluster-a');
    assert.equal(del.status, 200);
    assert.equal(del.text, '');
    await until('the peering is gone on B', 10_000, async () => (await callB('GET', '/v1/peering/cluster-a')).status === 404);
    assert.deepEqual((await callB('GET', '/v1/health/service/web?peer=cluster-a')).json, []);
    assert.deepEqual((await callB('GET', '/v1/catalog/services?peer=cluster-a')).json, {});
    await until('A\'s end is TERMINATED', 10_000, async () => ((await callA('GET', '/v1/peering/cluster-b')).json as { State: string }).State === 'TERMINATED');
    // Deleting a peering that does not exist is not an error.
    assert.equal((await callB('DELETE', '/v1/peering/cluster-a')).status, 200);
  });
});
