// Cluster peering between two independent dev agents (separate datacenters and stores) on
// 127.0.0.1: a token from A established on B over the HTTP API, services exported each way and
// read with `?peer=` (blocking reads woken by a health change on the exporter), Consul's error
// texts, and a deletion that removes the imported data and terminates the other end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { devConfig, startDevAgent, type DevAgent } from './support/agent.ts';
import { ConsulClient } from '../src/api/index.ts';
import { peeringGenerateToken } from '../src/api/peering.ts';
import { ROOT, aclDenyConfig, httpCaller, tokenWithRules, type HttpCall } from './support/acl.ts';
import { until } from './support/wait.ts';
import { dig } from './support/dns.ts';
import { runCliCaptured } from './support/cli.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/agent/config/index.ts';
import { freePort } from './support/ports.ts';
import { testCA } from './support/tls-cert.ts';

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
    assert.deepEqual(srv.answer.map((r) => r.slice(3)), [['SRV', '1', '1', '8080', '0a000001.addr.dc2.consul.']]);
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

describe('a dialer whose acceptor goes away', () => {
  test('an acceptor\'s deletion terminates the dialer; an acceptor that stops leaves it FAILING', async () => {
    const b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2', nodeName: 'node-b' } });
    const c = await startDevAgent({ config: { datacenter: 'dc3', primaryDatacenter: 'dc3', nodeName: 'node-c' } });
    let cStopped = false;
    try {
      const callB = httpCaller(() => b.httpAddr);
      const callC = httpCaller(() => c.httpAddr);
      const peer = async (acceptorName: string, dialerName: string) => {
        const tok = ((await callC('POST', '/v1/peering/token', '', { PeerName: acceptorName })).json as { PeeringToken: string }).PeeringToken;
        const est = await callB('POST', '/v1/peering/establish', '', { PeerName: dialerName, PeeringToken: tok });
        assert.equal(est.status, 200, est.text);
        await until(`${dialerName} ACTIVE`, 10_000, async () => ((await callB('GET', `/v1/peering/${dialerName}`)).json as { State: string }).State === 'ACTIVE');
      };
      await peer('to-b', 'cluster-c');
      assert.equal((await callC('DELETE', '/v1/peering/to-b')).status, 200);
      await until('the dialer TERMINATED', 10_000, async () => ((await callB('GET', '/v1/peering/cluster-c')).json as { State: string }).State === 'TERMINATED');
      await until('the acceptor\'s end removed', 10_000, async () => (await callC('GET', '/v1/peering/to-b')).status === 404);

      await peer('to-b2', 'cluster-c2');
      assert.equal((await callB('POST', '/v1/peering/token', '', { PeerName: 'p', Partition: 'other' })).text, 'Partitions are a Consul Enterprise feature');
      await c.stop();
      cStopped = true;
      const failing = await until('the dialer FAILING', 10_000, async () => {
        const p = (await callB('GET', '/v1/peering/cluster-c2')).json as { State: string; StreamStatus: { LastReceive: string | null } };
        return p.State === 'FAILING' ? p : undefined;
      });
      assert.ok(failing.StreamStatus.LastReceive);
    } finally {
      if (!cStopped) await c.stop();
      await b.stop();
    }
  });
});

describe('an acceptor that serves only HTTPS', () => {
  test('its token carries its CA and the dialer verifies the stream with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proconsul-peering-'));
    const ca = await testCA();
    const leaf = await ca.issue('server.dc1.consul', 'server', ['server.dc1.consul']);
    const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    const hcl = `tls { defaults { ca_file = "${file('ca.pem', ca.cert)}" cert_file = "${file('s.pem', leaf.cert)}" key_file = "${file('s-key.pem', leaf.key)}" } }`;
    const tls = (await loadConfig({ args: ['-dev', '-hcl', hcl] })).config.tls;
    const port = await freePort();
    const a = await startDevAgent({
      config: {
        datacenter: 'dc1', primaryDatacenter: 'dc1', nodeName: 'node-a', tls, httpAddrs: [], httpsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port }],
        ports: { http: -1, https: port, dns: -1, grpc: -1, grpcTls: -1, serfLan: 8301, serfWan: 8302, server: 8300 },
      },
    });
    const b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2', nodeName: 'node-b' } });
    try {
      const callB = httpCaller(() => b.httpAddr);
      const clientA = new ConsulClient({ address: `https://127.0.0.1:${port}`, tls: { caFile: join(dir, 'ca.pem') } });
      try {
        const { PeeringToken } = await peeringGenerateToken(clientA, { PeerName: 'plain-b' });
        const token = JSON.parse(Buffer.from(PeeringToken, 'base64').toString());
        assert.deepEqual(token.CA, [ca.cert]);
        assert.deepEqual(token.ServerAddresses, [`127.0.0.1:${port}`]);
        await clientA.catalog.register({ Node: 'n-tls', Address: '10.0.0.2', Service: { Service: 'secure', Port: 443 } });
        await clientA.json({ method: 'PUT', path: '/v1/config', json: { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'secure', Consumers: [{ Peer: 'plain-b' }] }] } });
        const est = await callB('POST', '/v1/peering/establish', '', { PeerName: 'tls-a', PeeringToken });
        assert.equal(est.status, 200, est.text);
        await until('secure imported on B', 10_000, async () => ((await callB('GET', '/v1/health/service/secure?peer=tls-a')).json as unknown[]).length === 1);
        const onB = (await callB('GET', '/v1/peering/tls-a')).json as { State: string; PeerCAPems: string[] };
        assert.equal(onB.State, 'ACTIVE');
        assert.deepEqual(onB.PeerCAPems, [ca.cert]);
      } finally {
        clientA.close();
      }
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

test('with peering.enabled = false every peering call is refused as Consul refuses it (FailedPrecondition: 500)', async () => {
  const off = await startDevAgent({ config: { raw: { peering: { enabled: false } } } });
  try {
    const call = httpCaller(() => off.httpAddr);
    // Consul's HTTP layer answers a gRPC FailedPrecondition as any unmapped code: 500, the status's message as body.
    const calls = [['POST', '/v1/peering/token', { PeerName: 'x' }], ['POST', '/v1/peering/establish', { PeerName: 'x', PeeringToken: 'e30=' }],
      ['GET', '/v1/peerings', undefined], ['GET', '/v1/peering/x', undefined], ['DELETE', '/v1/peering/x', undefined]] as const;
    for (const [method, path, body] of calls) {
      const r = await call(method, path, '', body);
      assert.deepEqual([r.status, r.text], [500, 'peering must be enabled to use this endpoint'], path);
    }
    // The CLI prints the agent's error after its own prefix, as Consul's commands do.
    const env = { CONSUL_HTTP_ADDR: off.httpAddr };
    assert.deepEqual(await runCliCaptured(['peering', 'list'], env), {
      code: 1, out: '', err: 'Error listing peerings: Unexpected response code: 500 (peering must be enabled to use this endpoint)\n',
    });
    assert.deepEqual(await runCliCaptured(['peering', 'read', '-name=x'], env), {
      code: 1, out: '', err: 'Error reading peering: Unexpected response code: 500 (peering must be enabled to use this endpoint)\n',
    });
  } finally {
    await off.stop();
  }
});

test('allow_write_http_from does not apply to the peer stream (Consul carries it over gRPC)', async () => {
  const a = await startDevAgent({ config: { datacenter: 'dc1', primaryDatacenter: 'dc1', http: { ...devConfig().http, allowWriteHttpFrom: ['127.0.0.2/32'] } } });
  const b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2' } });
  try {
    // The operator writes from the one allowed address; the dialer comes from 127.0.0.1.
    const fromAllowed = (path: string, body: unknown) => new Promise<{ status: number; text: string }>((resolve, reject) => {
      const [host, port] = a.httpAddr.split(':');
      const req = http.request({ host, port: Number(port), path, method: 'POST', localAddress: '127.0.0.2' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    assert.equal((await httpCaller(() => a.httpAddr)('POST', '/v1/peering/token', '', { PeerName: 'b' })).text, 'Access is restricted');
    const tok = await fromAllowed('/v1/peering/token', { PeerName: 'b' });
    assert.equal(tok.status, 200, tok.text);
    const callB = httpCaller(() => b.httpAddr);
    const est = await callB('POST', '/v1/peering/establish', '', { PeerName: 'a', PeeringToken: (JSON.parse(tok.text) as { PeeringToken: string }).PeeringToken });
    assert.equal(est.status, 200, est.text);
    await until('the peering ACTIVE', 10_000, async () => ((await callB('GET', '/v1/peering/a')).json as { State: string }).State === 'ACTIVE');
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('a dialer goes through the token\'s addresses in turn until one answers', async () => {
  const a = await startDevAgent({ config: { datacenter: 'dc1', primaryDatacenter: 'dc1' } });
  const b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2' } });
  try {
    const callA = httpCaller(() => a.httpAddr);
    const callB = httpCaller(() => b.httpAddr);
    const tok = await callA('POST', '/v1/peering/token', '', { PeerName: 'b', ServerExternalAddresses: ['127.0.0.1:1', a.httpAddr] });
    const token = (tok.json as { PeeringToken: string }).PeeringToken;
    assert.deepEqual(JSON.parse(Buffer.from(token, 'base64').toString()).ManualServerAddresses, ['127.0.0.1:1', a.httpAddr]);
    const est = await callB('POST', '/v1/peering/establish', '', { PeerName: 'a', PeeringToken: token });
    assert.equal(est.status, 200, est.text);
    await until('the peering ACTIVE through the second address', 15_000, async () => ((await callB('GET', '/v1/peering/a')).json as { State: string }).State === 'ACTIVE');
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('a dialer is not held by an acceptor address that accepts connections and never answers', async () => {
  // A black hole: takes the connection, reads, never writes (a hung server or a middlebox).
  const sockets = new Set<import('node:net').Socket>();
  let accepted = 0;
  const hole = net.createServer((sock) => {
    accepted++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    sock.resume();
  });
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
  const holeAddr = `127.0.0.1:${(hole.address() as import('node:net').AddressInfo).port}`;
  const a = await startDevAgent({ config: { datacenter: 'dc1', primaryDatacenter: 'dc1' } });
  const b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2' } });
  try {
    const callA = httpCaller(() => a.httpAddr);
    const callB = httpCaller(() => b.httpAddr);
    const tok = await callA('POST', '/v1/peering/token', '', { PeerName: 'b', ServerExternalAddresses: [holeAddr, a.httpAddr] });
    const est = await callB('POST', '/v1/peering/establish', '', { PeerName: 'a', PeeringToken: (tok.json as { PeeringToken: string }).PeeringToken });
    assert.equal(est.status, 200, est.text);
    // The stream's first dial goes to the black hole; it must give up and try the next address.
    await until('the peering ACTIVE past the black hole', 40_000, async () => ((await callB('GET', '/v1/peering/a')).json as { State: string }).State === 'ACTIVE');
    assert.ok(accepted >= 2, `the black hole saw the exchange and the stream (${accepted})`);
    // What the dialer left at the black hole is closed, not kept open.
    await until('the dialer closed its connections to the black hole', 10_000, async () => sockets.size === 0, { context: () => `${sockets.size} open` });
  } finally {
    for (const s of sockets) s.destroy();
    hole.close();
    await b.stop();
    await a.stop();
  }
});

test('a large export with multi-byte text arrives whole (stream chunks split characters)', async () => {
  const a = await startDevAgent({ config: { datacenter: 'dc1', primaryDatacenter: 'dc1' } });
  const b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2' } });
  try {
    const callA = httpCaller(() => a.httpAddr);
    const callB = httpCaller(() => b.httpAddr);
    const meta = { note: 'é'.repeat(500), city: 'Zürich–東京' };
    const count = 300;
    for (let i = 0; i < count; i += 50) {
      const ops = Array.from({ length: 50 }, (_, j) => ({
        Service: { Verb: 'set', Node: 'node-big', Service: { ID: `big-${i + j}`, Service: 'big', Port: 8000 + i + j, Meta: meta } },
      }));
      if (i === 0) ops.unshift({ Node: { Verb: 'set', Node: { Node: 'node-big', Address: '10.0.0.9' } } } as never);
      const r = await callA('PUT', '/v1/txn', '', ops);
      assert.equal(r.status, 200, r.text);
    }
    assert.equal((await callA('PUT', '/v1/config', '', { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'big', Consumers: [{ Peer: 'b' }] }] })).status, 200);
    const tok = ((await callA('POST', '/v1/peering/token', '', { PeerName: 'b' })).json as { PeeringToken: string }).PeeringToken;
    assert.equal((await callB('POST', '/v1/peering/establish', '', { PeerName: 'a', PeeringToken: tok })).status, 200);
    const rows = await until('all instances imported on B', 20_000, async () => {
      const list = (await callB('GET', '/v1/catalog/service/big?peer=a')).json as { ServiceMeta: Record<string, string> }[];
      return list.length === count ? list : undefined;
    });
    const damaged = rows.filter((r) => r.ServiceMeta.note !== meta.note || r.ServiceMeta.city !== meta.city);
    assert.equal(damaged.length, 0, `damaged meta, e.g. ${JSON.stringify(damaged[0]?.ServiceMeta)?.slice(0, 120)}`);
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('peerings, imports and the stream come back after both agents restart (embedded store)', async () => {
  const dirA = mkdtempSync(join(tmpdir(), 'proconsul-peer-a-'));
  const dirB = mkdtempSync(join(tmpdir(), 'proconsul-peer-b-'));
  const portA = await freePort();
  // The acceptor keeps its address across the restart: the token named it.
  // Each agent keeps its node ID across the restart, as a real one does from its data dir.
  const cfgA = { datacenter: 'dc1', primaryDatacenter: 'dc1', nodeName: 'node-a', nodeId: randomUUID(), dataDir: dirA, store: { backend: 'embedded' as const }, httpAddrs: [{ kind: 'tcp' as const, host: '127.0.0.1', port: portA }] };
  const cfgB = { datacenter: 'dc2', primaryDatacenter: 'dc2', nodeName: 'node-b', nodeId: randomUUID(), dataDir: dirB, store: { backend: 'embedded' as const } };
  let a = await startDevAgent({ config: cfgA });
  let b = await startDevAgent({ config: cfgB });
  const callA = httpCaller(() => a.httpAddr);
  const callB = httpCaller(() => b.httpAddr);
  try {
    await callA('PUT', '/v1/catalog/register', '', { Node: 'node-web', Address: '10.0.0.1', Service: { ID: 'web-1', Service: 'web', Port: 80 } });
    await callA('PUT', '/v1/config', '', { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'web', Consumers: [{ Peer: 'b' }] }] });
    const tok = ((await callA('POST', '/v1/peering/token', '', { PeerName: 'b' })).json as { PeeringToken: string }).PeeringToken;
    assert.equal((await callB('POST', '/v1/peering/establish', '', { PeerName: 'a', PeeringToken: tok })).status, 200);
    await until('web imported on B', 10_000, async () => ((await callB('GET', '/v1/health/service/web?peer=a')).json as unknown[]).length === 1);
    const before = (await callB('GET', '/v1/peering/a')).json as { ID: string; PeerID: string };

    await b.stop();
    await a.stop();
    b = await startDevAgent({ config: cfgB });
    // With the acceptor still down, B keeps its peering and what it imported.
    const kept = (await callB('GET', '/v1/peering/a')).json as { ID: string; PeerID: string; State: string };
    assert.deepEqual([kept.ID, kept.PeerID], [before.ID, before.PeerID]);
    assert.equal(((await callB('GET', '/v1/health/service/web?peer=a')).json as unknown[]).length, 1);
    a = await startDevAgent({ config: cfgA });
    let seen = '';
    await until('the peering ACTIVE again on both ends', 30_000, async () => {
      const [pb, pa] = [await callB('GET', '/v1/peering/a'), await callA('GET', '/v1/peering/b')];
      seen = `B: ${pb.text}\nA: ${pa.text}`;
      return (pb.json as { State: string }).State === 'ACTIVE' && (pa.json as { State: string }).State === 'ACTIVE';
    }, { context: () => seen });
    // A change after the restart still flows.
    await callA('PUT', '/v1/catalog/register', '', { Node: 'node-web2', Address: '10.0.0.2', Service: { ID: 'web-2', Service: 'web', Port: 80 } });
    await until('the new instance imported on B', 10_000, async () => ((await callB('GET', '/v1/health/service/web?peer=a')).json as unknown[]).length === 2);
  } finally {
    await b.stop();
    await a.stop();
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
});

test('imported data is filtered by the reader\'s service and node rules; peering reads need peering (or operator) rules', async () => {
  const a = await startDevAgent({ config: { datacenter: 'dc1', primaryDatacenter: 'dc1' } });
  const b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2', ...aclDenyConfig() } });
  try {
    const callA = httpCaller(() => a.httpAddr);
    const callB = httpCaller(() => b.httpAddr);
    for (const svc of ['web', 'db']) {
      await callA('PUT', '/v1/catalog/register', '', { Node: `node-${svc}`, Address: '10.0.0.1', Service: { ID: `${svc}-1`, Service: svc, Port: 80 }, Check: { CheckID: `${svc}-c`, Name: 'c', Status: 'passing', ServiceID: `${svc}-1` } });
    }
    await callA('PUT', '/v1/config', '', { Kind: 'exported-services', Name: 'default', Services: ['web', 'db'].map((Name) => ({ Name, Consumers: [{ Peer: 'b' }] })) });
    const tok = ((await callA('POST', '/v1/peering/token', '', { PeerName: 'b' })).json as { PeeringToken: string }).PeeringToken;
    assert.equal((await callB('POST', '/v1/peering/establish', '', { PeerName: 'a', PeeringToken: tok })).status, 403, 'establish needs peering:write');
    assert.equal((await callB('POST', '/v1/peering/establish', ROOT, { PeerName: 'a', PeeringToken: tok })).status, 200);
    await until('both services imported on B', 10_000, async () => Object.keys((await callB('GET', '/v1/catalog/services?peer=a', ROOT)).json ?? {}).length === 2);

    const webOnly = (await tokenWithRules(callB, 'service "web" { policy = "read" }\nnode_prefix "" { policy = "read" }')).SecretID;
    assert.deepEqual(Object.keys((await callB('GET', '/v1/catalog/services?peer=a', webOnly)).json), ['web']);
    assert.equal(((await callB('GET', '/v1/health/service/web?peer=a', webOnly)).json as unknown[]).length, 1);
    const db = await callB('GET', '/v1/health/service/db?peer=a', webOnly);
    assert.deepEqual(db.json, []);
    assert.equal(db.headers.get('x-consul-results-filtered-by-acls'), 'true');
    assert.deepEqual((await callB('GET', '/v1/catalog/service/db?peer=a', webOnly)).json, []);
    // Without node rules the instances are hidden too, as Consul's filter drops them.
    const noNodes = (await tokenWithRules(callB, 'service "web" { policy = "read" }')).SecretID;
    assert.deepEqual((await callB('GET', '/v1/health/service/web?peer=a', noNodes)).json, []);
    assert.deepEqual((await callB('GET', '/v1/health/service/web?peer=a')).json, [], 'anonymous sees nothing');

    // Peering reads: peering:read, or operator:read when no peering rule is given; not service rules.
    assert.equal((await callB('GET', '/v1/peerings', webOnly)).status, 403);
    assert.equal((await callB('GET', '/v1/peering/a', webOnly)).status, 403);
    const op = (await tokenWithRules(callB, 'operator = "read"')).SecretID;
    assert.equal((await callB('GET', '/v1/peering/a', op)).status, 200);
    assert.equal((await callB('DELETE', '/v1/peering/a', op)).status, 403, 'deletion needs write');
    const peerDenied = (await tokenWithRules(callB, 'operator = "write"\npeering = "deny"')).SecretID;
    assert.equal((await callB('GET', '/v1/peerings', peerDenied)).status, 403, 'a peering rule wins over operator');
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('peering request bodies of the wrong JSON types are refused as Go decodes them (400), not coerced', async () => {
  const a = await startDevAgent();
  try {
    const call = httpCaller(() => a.httpAddr);
    const cases: [string, unknown, string][] = [
      ['/v1/peering/token', [], 'json: cannot unmarshal array into Go value of type api.PeeringGenerateTokenRequest'],
      ['/v1/peering/token', { PeerName: 5 }, 'json: cannot unmarshal number into Go struct field PeeringGenerateTokenRequest.PeerName of type string'],
      ['/v1/peering/token', { PeerName: 'p', Meta: { k: 1 } }, 'json: cannot unmarshal number into Go struct field PeeringGenerateTokenRequest.Meta of type string'],
      ['/v1/peering/token', { PeerName: 'p', Meta: ['k'] }, 'json: cannot unmarshal array into Go struct field PeeringGenerateTokenRequest.Meta of type map[string]string'],
      ['/v1/peering/token', { PeerName: 'p', ServerExternalAddresses: 'a:1' }, 'json: cannot unmarshal string into Go struct field PeeringGenerateTokenRequest.ServerExternalAddresses of type []string'],
      ['/v1/peering/establish', { PeerName: 'p', PeeringToken: true }, 'json: cannot unmarshal bool into Go struct field PeeringEstablishRequest.PeeringToken of type string'],
    ];
    for (const [path, body, text] of cases) {
      const r = await call('POST', path, '', body);
      assert.deepEqual([r.status, r.text], [400, `Body decoding failed: ${text}`], JSON.stringify(body));
    }
    // null is Go's zero value: the request then lacks its PeerName.
    const r = await call('POST', '/v1/peering/token', '', 'null');
    assert.deepEqual([r.status, r.text], [400, 'PeerName is required in the payload when generating a new peering token.']);
    assert.deepEqual((await call('GET', '/v1/peerings')).json, [], 'nothing was created');
  } finally {
    await a.stop();
  }
});

test('peering reads carry Consul\'s index headers and block on the peering table', async () => {
  const a = await startDevAgent();
  try {
    const call = httpCaller(() => a.httpAddr);
    await call('POST', '/v1/peering/token', '', { PeerName: 'one' });
    const one = await call('GET', '/v1/peering/one');
    assert.equal(one.headers.get('x-consul-index'), String((one.json as { ModifyIndex: number }).ModifyIndex));
    assert.equal(one.headers.get('x-consul-knownleader'), 'true');
    const list = await call('GET', '/v1/peerings');
    const index = Number(list.headers.get('x-consul-index'));
    assert.ok(index >= (one.json as { ModifyIndex: number }).ModifyIndex);
    // A 404 is answered before any query meta, as Consul's handler returns its HTTPError first.
    const missing = await call('GET', '/v1/peering/none');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-consul-index'), null);
    // A blocked list wakes when a peering is written.
    const waiting = call('GET', `/v1/peerings?index=${index}&wait=30s`);
    await call('POST', '/v1/peering/token', '', { PeerName: 'two' });
    const woke = await waiting;
    assert.ok(Number(woke.headers.get('x-consul-index')) > index);
    assert.deepEqual((woke.json as { Name: string }[]).map((p) => p.Name).sort(), ['one', 'two']);
  } finally {
    await a.stop();
  }
});
