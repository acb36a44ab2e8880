// Cluster peering edge cases: dialers and acceptors that go away, HTTPS-only acceptors, peering
// turned off, allow_write_http_from, address fallback, silent acceptors, large exports, restarts,
// ACL filtering of imports, JSON decoding and index headers (the main flow is test/peering.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { devConfig, startDevAgent } from './support/agent.ts';
import { ConsulClient } from '../src/api/index.ts';
import { peeringGenerateToken } from '../src/api/peering.ts';
import { ROOT, aclDenyConfig, httpCaller, tokenWithRules } from './support/acl.ts';
import { until } from './support/wait.ts';
import { runCliCaptured } from './support/cli.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/agent/config/index.ts';
import { freePort } from './support/ports.ts';
import { testCA } from './support/tls-cert.ts';

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
      // A partition must exist (Consul Enterprise; Proconsul has partitions in the open).
      const other = await callB('POST', '/v1/peering/token', '', { PeerName: 'p', Partition: 'other' });
      assert.deepEqual([other.status, other.text], [500, 'Partition "other" does not exist']);
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
  // The dialer gives up on an unanswered stream request after 2 s instead of 10 s.
  const b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2' }, deps: { peerStreamOpenTimeoutMs: 2000 } });
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
