// Managed mode with tls.internal_rpc (certificates from one CA; verify_incoming alone, then with
// verify_server_hostname): three servers form their etcd cluster over TLS (bootstrap on the
// server port, etcd peers and clients with the servers' certificates), elect, replicate, and
// survive a kill -9 of the leader's machine; a fourth joins as a learner over TLS and is
// promoted; etcd and the server port answer nothing over plaintext meanwhile.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ManagedDc, getJson, until, type ManagedServer, type PreparedServer, type RaftConfig } from './support/managed-dc.ts';
import { testCA } from './support/tls-cert.ts';
import { etcdMembers, httpRequest, plaintextExchange } from './support/tls-probes.ts';

const pem = (dc: ManagedDc, name: string): Buffer => fs.readFileSync(path.join(dc.dir, name));

/** A datacenter whose servers get certificates from one CA and `internalRpc` as tls.internal_rpc. */
function tlsDc(name: string, internalRpc: Record<string, boolean>): { dc: ManagedDc; issue: (node: string) => Promise<PreparedServer> } {
  const dc = new ManagedDc(name);
  const ca = testCA();
  return {
    dc,
    issue: async (node) => {
      const authority = await ca;
      fs.writeFileSync(path.join(dc.dir, 'ca.pem'), authority.cert);
      const leaf = await authority.issue(node, 'server', ['server.dc1.consul']);
      fs.writeFileSync(path.join(dc.dir, `${node}.pem`), leaf.cert);
      fs.writeFileSync(path.join(dc.dir, `${node}.key`), leaf.key);
      return dc.prepare(node, {
        tls: {
          defaults: { ca_file: path.join(dc.dir, 'ca.pem'), cert_file: path.join(dc.dir, `${node}.pem`), key_file: path.join(dc.dir, `${node}.key`) },
          internal_rpc: internalRpc,
        },
        autopilot: { server_stabilization_time: '2s' },
      });
    },
  };
}

/** host and port of a server's etcd client URL (the prepared one says http://). */
const etcdClient = (s: PreparedServer) => new URL(s.etcdClient).host;

/** The etcd members as one server's member lists them, asked over TLS with that server's certificate. */
function members(dc: ManagedDc, s: ManagedServer): Promise<{ name: string; peerURLs: string[] }[]> {
  return etcdMembers(`https://${etcdClient(s)}`, { rootCertificate: pem(dc, 'ca.pem'), privateKey: pem(dc, `${s.node}.key`), certChain: pem(dc, `${s.node}.pem`) });
}

/** The scenario on one datacenter. */
async function formSurviveJoin(dc: ManagedDc, issue: (node: string) => Promise<PreparedServer>): Promise<void> {
  const first = await Promise.all(['s1', 's2', 's3'].map((node) => issue(node)));
  const three = first.map((p) => dc.launch(p, first, 3));
  const leaderAddr = await dc.agreedLeader(three, 60_000);
  const list = await members(dc, three[0]);
  assert.deepEqual(list.map((m) => m.name).sort(), ['s1', 's2', 's3']);
  assert.ok(list.every((m) => m.peerURLs.every((u) => u.startsWith('https://'))), JSON.stringify(list));
  const cfg = await until('the raft configuration from a follower', 15_000, () => getJson<RaftConfig>(`${three[1].http}/v1/operator/raft/configuration`));
  assert.deepEqual(cfg.Servers.map((s) => [s.Node, s.Voter]), [['s1', true], ['s2', true], ['s3', true]]);

  for (const s of three) {
    const [host, port] = s.server.split(':');
    assert.equal((await plaintextExchange(host, Number(port), httpRequest('GET', '/v1/internal/etcd/peer'))).text, '', `${s.node}'s server port answered plaintext`);
    const [eh, ep] = etcdClient(s).split(':');
    const etcd = await plaintextExchange(eh, Number(ep), httpRequest('POST', '/v3/kv/range', '{"key":"AA==","range_end":"AA=="}'));
    assert.doesNotMatch(etcd.text, /^HTTP\/1\.[01] 2\d\d|"kvs"|cluster_id/, `${s.node}'s etcd answered plaintext: ${etcd.text}`);
  }

  assert.equal(await (await fetch(`${three[0].http}/v1/kv/managed/k`, { method: 'PUT', body: 'v1' })).text(), 'true');
  for (const s of three.slice(1)) assert.equal(await (await fetch(`${s.http}/v1/kv/managed/k?raw&consistent`)).text(), 'v1');

  const leader = three.find((s) => s.server === leaderAddr)!;
  const rest = three.filter((s) => s !== leader);
  dc.killHard(leader);
  const next = await until('a new agreed leader', 30_000, async () => {
    const seen = await Promise.all(rest.map((s) => getJson<string>(`${s.http}/v1/status/leader`)));
    return seen[0] && seen[0] !== leaderAddr && seen.every((x) => x === seen[0]) ? seen[0] : undefined;
  });
  assert.notEqual(next, leaderAddr);
  const put = await until('a write after the leader kill', 20_000, async () => {
    const res = await fetch(`${rest[0].http}/v1/kv/managed/after`, { method: 'PUT', body: 'v2' }).catch(() => null);
    return res?.status === 200 ? res.text() : undefined;
  });
  assert.equal(put, 'true');
  assert.equal(await (await fetch(`${rest[1].http}/v1/kv/managed/k?raw&consistent`)).text(), 'v1');
  assert.equal(await (await fetch(`${rest[1].http}/v1/kv/managed/after?raw&consistent`)).text(), 'v2');

  const s4 = dc.launch(await issue('s4'), first, 3);
  await until('s4 promoted to voter', 60_000, async () => {
    const c = await getJson<RaftConfig>(`${rest[0].http}/v1/operator/raft/configuration`);
    return c?.Servers.find((x) => x.Node === 's4')?.Voter ? true : undefined;
  });
  assert.equal(await (await fetch(`${s4.http}/v1/kv/managed/after?raw&consistent`)).text(), 'v2');
  assert.ok((await members(dc, s4)).some((m) => m.name === 's4' && m.peerURLs[0]?.startsWith('https://')));
}

test('three managed servers with TLS (verify_incoming) form a datacenter, replicate and survive a leader kill; a fourth joins; plaintext gets nothing', async (t) => {
  const { dc, issue } = tlsDc('managed-tls', { verify_incoming: true });
  dc.stopAfter(t);
  await formSurviveJoin(dc, issue);
});

test('the same with verify_server_hostname (etcd takes only certificates for server.dc1.consul)', async (t) => {
  const { dc, issue } = tlsDc('managed-tls-vsh', { verify_incoming: true, verify_server_hostname: true });
  dc.stopAfter(t);
  await formSurviveJoin(dc, issue);
});
