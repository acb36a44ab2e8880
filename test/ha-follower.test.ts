// A follower's machine loss in a 3-server managed datacenter, with a client agent registered on
// it: kill -9 of a follower (agent and etcd member) while writers and readers run against the
// leader directly and through the client agent. Reads and writes on the surviving servers never
// stop; the client agent keeps answering (it fails over to another server) and its service stays
// registered and passing; the follower restarted with its data dir rejoins as a voter and has
// every write made while it was down.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { freePort } from './support/etcd.ts';
import { ManagedDc, getJson, until, type ManagedServer, type RaftConfig } from './support/managed-dc.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
const dc = new ManagedDc('follower');
// The client agent's own address, so its connections to the servers' RPC ports can be told apart.
const CLIENT_IP = '127.0.0.9';
let client: ChildProcess | undefined;
after(async () => {
  client?.kill('SIGKILL');
  await dc.stop();
});

/** Remote ports of the client agent's established TCP connections (/proc/net/tcp: local, remote, state 01). */
function rpcPeerPorts(): number[] {
  const local = CLIENT_IP.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).reverse().join('').toUpperCase();
  return fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/))
    .filter((r) => r[3] === '01' && r[1]?.startsWith(`${local}:`) && r[2]?.startsWith('0100007F:'))
    .map((r) => parseInt(r[2].split(':')[1], 16));
}

interface Op { what: string; start: number; ok: boolean; error?: string }

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}

/** Writes then reads back key after key until `stop()`; every attempt is recorded. */
function workload(name: string, base: string, ops: Op[]): { stop: () => Promise<number> } {
  let running = true;
  let i = 0;
  const loop = (async () => {
    while (running) {
      const key = `ha-follower/${name}/${i}`;
      // The read-back follows only an acknowledged write (a failed one may not have been applied).
      for (const [what, run] of [
        ['write', () => call(`${base}/v1/kv/${key}`, { method: 'PUT', body: String(i) }).then((r) => r.status === 200 && r.text === 'true' ? '' : `${r.status} ${r.text}`)],
        ['read', () => call(`${base}/v1/kv/${key}?raw&consistent`).then((r) => r.status === 200 && r.text === String(i) ? '' : `${r.status} ${r.text}`)],
      ] as const) {
        const start = Date.now();
        const error = await run().catch((e: Error) => `${e.name}: ${e.message}`);
        ops.push({ what, start, ok: error === '', ...(error ? { error } : {}) });
        if (error) break;
      }
      i++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { stop: async () => { running = false; await loop; return i; } };
}

test('kill -9 of a follower: reads and writes never stop, the client agent keeps working, the follower rejoins', { timeout: 240_000 }, async (t) => {
  dc.stopAfter(t);
  const prepared = await Promise.all(['s1', 's2', 's3'].map((n) => dc.prepare(n, { autopilot: { server_stabilization_time: '2s' } })));
  const servers = prepared.map((p) => dc.launch(p, prepared, 3));
  const leaderAddr = await dc.agreedLeader(servers, 60_000);
  const leader = servers.find((s) => s.server === leaderAddr)!;

  // A client agent joined to the servers, with a service registered through it.
  const [http, serf] = await Promise.all([freePort(), freePort()]);
  const cfg = path.join(dc.dir, 'c1.json');
  fs.writeFileSync(cfg, JSON.stringify({ ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: serf, serf_wan: -1 } }));
  client = spawn(process.execPath, [BIN, 'agent', '-node', 'c1', '-bind', CLIENT_IP, '-client', CLIENT_IP, '-data-dir', path.join(dc.dir, 'c1'),
    '-config-file', cfg, '-log-level', 'warn', ...servers.flatMap((s) => ['-retry-join', s.serf])], { stdio: ['ignore', 'ignore', 'inherit'] });
  const viaClient = `http://${CLIENT_IP}:${http}`;
  await until('the client agent knows three servers', 30_000, async () => {
    const self = await getJson<{ Stats: { consul: { known_servers: string } } }>(`${viaClient}/v1/agent/self`);
    return self?.Stats.consul.known_servers === '3' ? true : undefined;
  });
  const reg = await call(`${viaClient}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ Name: 'web', Port: 8080 }) });
  assert.equal(reg.status, 200);
  const webPassing = (s: ManagedServer) => getJson<{ Node: { Node: string } }[]>(`${s.http}/v1/health/service/web?passing`)
    .then((r) => (r?.length === 1 && r[0].Node.Node === 'c1' ? true : undefined));
  await until('web registered by the client and passing', 30_000, () => webPassing(leader));

  const direct: Op[] = [];
  const throughClient: Op[] = [];
  const w1 = workload('direct', leader.http, direct);
  const w2 = workload('client', viaClient, throughClient);
  await new Promise((r) => setTimeout(r, 2000));

  // The follower the client agent forwards to, when it uses one (else any follower).
  const followers = servers.filter((s) => s !== leader);
  const used = followers.filter((s) => rpcPeerPorts().includes(Number(s.server.split(':')[1])));
  const victim = used[0] ?? followers[0];
  process.stdout.write(`# killing ${victim.node}: ${used.length ? 'the follower the client agent forwards to' : 'a follower (the client agent forwards to the leader)'}\n`);
  const tKill = Date.now();
  let tDead = Infinity;
  victim.child.once('exit', () => { tDead = Date.now(); });
  dc.killHard(victim);
  await new Promise((r) => setTimeout(r, 6000));
  const rounds = [await w1.stop(), await w2.stop()];
  process.stdout.write(`# follower ${victim.node} killed; ${direct.length} direct and ${throughClient.length} client-agent operations (${rounds.join('/')} rounds)\n`);

  const sinceKill = (ops: Op[]) => ops.filter((o) => o.start >= tKill);
  assert.ok(sinceKill(direct).length >= 20 && sinceKill(throughClient).length >= 20, 'operations kept being issued after the kill');
  assert.deepEqual(direct.filter((o) => !o.ok), [], 'no direct operation failed');
  // A write whose connection broke as its server died is not resent (it may have been applied):
  // at most that one write through the client may fail, one sent before the victim was seen dead
  // (250 ms for the client agent to see its connection close); every read fails over.
  const clientFailures = throughClient.filter((o) => !o.ok);
  assert.ok(clientFailures.length <= 1 && clientFailures.every((o) => o.what === 'write' && /rpc error making call/.test(o.error ?? '') && o.start <= tDead + 250),
    `client-agent operations failed: ${JSON.stringify(clientFailures)} (kill at ${tKill}, exit seen at ${tDead})`);
  const survivors = servers.filter((s) => s !== victim);
  for (const s of survivors) assert.equal(await webPassing(s), true, `web still passing on ${s.node}`);

  // Restart with the same data dir and command line: a voter again, with every write.
  const back = dc.launch(prepared.find((p) => p.node === victim.node)!, prepared, 3);
  await until(`${victim.node} a voter again`, 90_000, async () => {
    const c = await getJson<RaftConfig>(`${leader.http}/v1/operator/raft/configuration`);
    return c?.Servers.find((x) => x.Node === victim.node)?.Voter ? true : undefined;
  });
  const last = direct.filter((o) => o.what === 'write' && o.ok).length - 1;
  const seen = await until(`${victim.node} reads the last write`, 30_000, async () => {
    const r = await call(`${back.http}/v1/kv/ha-follower/direct/${last}?raw&consistent`).catch(() => undefined);
    return r?.status === 200 ? r.text : undefined;
  });
  assert.equal(seen, String(last));
  process.stdout.write(`# ${victim.node} restarted: voter again and up to date ${Date.now() - tKill} ms after the kill\n`);
});
