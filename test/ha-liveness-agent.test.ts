// Leader liveness wired into real agents (in-process, gossip pool on, one etcd member): each
// server's greeting is served by its internal RPC listener, so the Liveness address in its server
// and leader records is that listener's bound address — also when ports.server is 0 (an
// ephemeral port) — and the greeting there carries the server's node and current lease.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createAgent, type Agent } from '../src/index.ts';
import { loadConfig } from '../src/agent/config/load.ts';
import { silentLogger } from '../src/log.ts';
import { etcdStoreUrl, freePort, startEtcd, type EtcdCluster } from './support/etcd.ts';
import { waitFor } from './support/wait.ts';

let etcd: EtcdCluster | undefined;
const agents: Agent[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-liveness-'));
after(async () => {
  for (const a of agents.reverse()) await a.stop();
  await etcd?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A server agent on the etcd cluster with its gossip pool (so it has an RPC listener) on ports.server 0. */
async function server(node: string, store: string): Promise<Agent> {
  const cfg = path.join(dir, `${node}.json`);
  fs.writeFileSync(cfg, JSON.stringify({ ports: { http: await freePort(), dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort() } }));
  const { config } = await loadConfig({ args: ['-server', '-node', node, '-bind', '127.0.0.1', '-client', '127.0.0.1', '-store', store, '-data-dir', path.join(dir, node), '-config-file', cfg] });
  assert.ok(config.gossip, 'the loaded config has a gossip pool');
  config.ports.server = 0;
  const agent = createAgent(config, { logger: silentLogger() });
  agents.push(agent);
  await agent.start();
  return agent;
}

/** The first line the greeting at `address` answers with. */
async function greeting(address: string): Promise<string> {
  const res = await fetch(`http://${address}/v1/internal/rpc/liveness`);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const first = Buffer.from((await reader.read()).value!).toString();
  await reader.cancel();
  return first;
}

test('servers greet on their RPC listener\'s bound address (ports.server 0), published as Liveness in their records', async () => {
  etcd = await startEtcd(1);
  const store = etcdStoreUrl(etcd);
  const a = await server('l1', store);
  const b = await server('l2', store);
  await waitFor('one leader both servers know', () => a.leaderSide.election.leader() !== null && b.leaderSide.election.leader()?.Node === a.leaderSide.election.leader()?.Node, { ms: 15_000 });
  for (const s of [a, b]) {
    const self = s.leaderSide.election.self();
    assert.match(self.Liveness ?? '', /^127\.0\.0\.1:\d+$/);
    assert.notEqual(self.Liveness, '127.0.0.1:0');
    assert.equal(await greeting(self.Liveness!), `proconsul-leader ${JSON.stringify({ Node: self.Node, Lease: self.Lease })}\n`);
    // The same listener serves the internal RPC (the HTTP route table): it is the server port.
    const leader = await (await fetch(`http://${self.Liveness}/v1/status/leader`)).json();
    assert.equal(typeof leader, 'string');
  }
  const leader = a.leaderSide.election.leader()!;
  const leading = [a, b].find((s) => s.leaderSide.election.self().Node === leader.Node)!;
  assert.equal(leader.Liveness, leading.leaderSide.election.self().Liveness);
  assert.equal(b.leaderSide.election.servers().find((s) => s.Node === 'l1')?.Liveness, a.leaderSide.election.self().Liveness);
});
