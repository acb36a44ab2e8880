// Fault test on a 3-server managed datacenter (real processes, real HTTP): client workers run
// CAS increments (GET ?consistent, then PUT ?cas=ModifyIndex), plain writes and reads, and
// session lock acquisitions, some pinned to a server, some roaming between servers, while a
// nemesis kill -9s Proconsul servers and their etcd members one at a time and restarts them
// (once after autopilot removed the dead member, so it rejoins as a new one).
// Afterwards: no acknowledged increment is missing (acked ≤ counter ≤ acked + indeterminate),
// every key's history of ?consistent reads and writes is linearizable (test/support/
// linearizability.ts), default-mode reads never go back on one server and only show written
// values (they follow the replica, DESIGN §2: not linearizable by design), and no two lock
// holders' intervals overlap (a holder's interval ends at its release, or at acquire + lock-delay
// when its session may have been invalidated behind its back).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { AgentLogs, testFailed } from './support/agent-logs.ts';
import { etcdBinary, freePort } from './support/etcd.ts';
import { checkRegisterHistory, type KeyedOp } from './support/linearizability.ts';
import { getJson, until, waitFor } from './support/wait.ts';
import { seededRandom as prng } from '../src/gossip/random.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const dir = fs.mkdtempSync(path.join(base, 'proconsul-faults-'));
/** FAULTS_TEST_LOG=<prefix>: agents at debug, their logs kept, the history written to <prefix>-history.json. */
const LOG = process.env.FAULTS_TEST_LOG;
const logs = new AgentLogs('faults', Boolean(LOG));

const COUNTERS = ['faults/counter/a', 'faults/counter/b'];
const REGISTER = 'faults/register';
const LOCK = 'faults/lock';
const LOCK_DELAY_MS = 2000;
const REQUEST_TIMEOUT_MS = 4000;
/** A healthy spell between faults: this many more acknowledged increments on each counter and plain writes, and lock holds. */
const SPELL_OPS = 20;
const SPELL_HOLDS = 5;

interface Server { node: string; child: ChildProcess | null; http: string; server: string; serf: string; etcdClient: string; dataDir: string; cfg: string }
const servers: Server[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

function etcdPid(s: Server): number {
  try {
    return Number(fs.readFileSync(path.join(s.dataDir, 'etcd', 'etcd.pid'), 'utf8'));
  } catch {
    return 0;
  }
}

function killAgent(s: Server): void {
  if (s.child && s.child.exitCode === null) s.child.kill('SIGKILL');
}

function killEtcd(s: Server): void {
  const pid = etcdPid(s);
  if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

after(async () => {
  for (const s of servers) {
    if (!s.child || s.child.exitCode !== null) continue;
    const exited = new Promise((r) => s.child!.once('exit', r));
    s.child.kill('SIGTERM');
    await Promise.race([exited, sleep(8000)]);
  }
  for (const s of servers) {
    killAgent(s);
    killEtcd(s);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  logs.remove();
});

async function prepare(node: string): Promise<Server> {
  const [httpPort, server, serf, serfWan, client, peer] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freePort()));
  const cfg = path.join(dir, `${node}.json`);
  fs.writeFileSync(cfg, JSON.stringify({
    ports: { http: httpPort, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: serf, serf_wan: serfWan, server },
    managed_etcd: { client_port: client, peer_port: peer },
    autopilot: { server_stabilization_time: '2s' },
  }));
  const s = { node, child: null, cfg, http: `http://127.0.0.1:${httpPort}`, server: `127.0.0.1:${server}`, serf: `127.0.0.1:${serf}`, etcdClient: `http://127.0.0.1:${client}`, dataDir: path.join(dir, node) };
  servers.push(s);
  return s;
}

/** Starts (or restarts, with its data dir) `proconsul agent -server -bootstrap-expect 3`. */
function launch(s: Server): void {
  const join = servers.flatMap((x) => ['-retry-join', x.server, '-retry-join', x.serf]);
  const out = logs.open(s.node, `(server ${s.server}, etcd ${s.etcdClient})`);
  s.child = spawn(process.execPath, [BIN, 'agent', '-server', '-bootstrap-expect', '3', '-node', s.node, '-bind', '127.0.0.1', '-client', '127.0.0.1',
    '-data-dir', s.dataDir, '-config-file', s.cfg, '-log-level', LOG ? 'debug' : 'info', ...join], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
}

/** One HTTP answer, or a thrown error: `sent` false when the request surely never reached a server. */
interface Answer { status: number; body: string; index: number }
class CallError extends Error {
  readonly sent: boolean;
  constructor(message: string, sent: boolean) {
    super(message);
    this.sent = sent;
  }
}

/** A client with its own keep-alive connection pool, like one application instance. */
function httpClient() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  return {
    call(base: string, method: string, pathAndQuery: string, body?: string): Promise<Answer> {
      return new Promise((resolve, reject) => {
        const req = http.request(`${base}${pathAndQuery}`, { method, agent, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => { text += d; });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, index: Number(res.headers['x-consul-index'] ?? 0) }));
          res.on('error', (err) => reject(new CallError(err.message, true)));
        });
        req.on('error', (err: NodeJS.ErrnoException) => reject(new CallError(err.message, err.code !== 'ECONNREFUSED')));
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

interface Stats { casAcked: Map<string, number>; casIndeterminate: Map<string, number>; casFailed: number; reads: number; writes: number; errors: number; switches: number }

/** Everything the workers observed. */
const history: KeyedOp[] = [];
const defaultReads: { client: string; server: string; key: string; index: number; value: string | null }[] = [];
const holds: { client: string; acqCall: number; acqRet: number; relCall: number }[] = [];
const stats: Stats = { casAcked: new Map(), casIndeterminate: new Map(), casFailed: 0, reads: 0, writes: 0, errors: 0, switches: 0 };
let lostLocks = 0;

/** A worker's view of the servers: pinned ones stay on one until it fails, roaming ones move every op. */
class Route {
  #i: number;
  readonly #roam: boolean;
  constructor(start: number, roam: boolean) {
    this.#i = start;
    this.#roam = roam;
  }
  get base(): string {
    return servers[this.#i % servers.length].http;
  }
  next(): void {
    this.#i++;
    stats.switches++;
  }
  step(): void {
    if (this.#roam) this.#i++;
  }
}

type KvGet = { value: string | null; modifyIndex: number };

async function kvGet(c: ReturnType<typeof httpClient>, base: string, key: string, mode: 'consistent' | 'default'): Promise<KvGet & { index: number }> {
  const res = await c.call(base, 'GET', `/v1/kv/${key}${mode === 'consistent' ? '?consistent' : ''}`);
  if (res.status === 404) return { value: null, modifyIndex: 0, index: res.index };
  if (res.status !== 200) throw new CallError(`GET ${key}: ${res.status} ${res.body.trim()}`, true);
  const [e] = JSON.parse(res.body) as { Value: string | null; ModifyIndex: number }[];
  return { value: e.Value === null ? '' : Buffer.from(e.Value, 'base64').toString(), modifyIndex: e.ModifyIndex, index: res.index };
}

/** PUT answering true/false; throws CallError when the outcome is unknown (or surely not applied: sent false). */
async function kvPut(c: ReturnType<typeof httpClient>, base: string, key: string, query: string, value: string): Promise<boolean> {
  const res = await c.call(base, 'PUT', `/v1/kv/${key}${query}`, value);
  if (res.status !== 200) throw new CallError(`PUT ${key}${query}: ${res.status} ${res.body.trim()}`, true);
  return res.body.trim() === 'true';
}

/** Records one op: a CallError that was sent makes it indeterminate (`unknown`), one never sent drops it. */
async function recorded<T>(client: string, key: string, route: Route, run: () => Promise<T>, op: (r: T) => KeyedOp['op'], unknown: () => KeyedOp['op'] | null): Promise<{ value?: T; unknown: boolean }> {
  const call = now();
  try {
    const value = await run();
    history.push({ key, client, call, ret: now(), op: op(value) });
    return { value, unknown: false };
  } catch (err) {
    stats.errors++;
    const u = unknown();
    const sent = !(err instanceof CallError) || err.sent;
    if (u && sent) history.push({ key, client, call, ret: Infinity, op: u });
    route.next();
    await sleep(50);
    return { unknown: sent };
  }
}

/** CAS increments on one counter: value `<n>:<client>:<seq>` (unique), n counts successful increments. */
async function casWorker(id: string, route: Route, key: string, stop: () => boolean): Promise<void> {
  const c = httpClient();
  let seq = 0;
  while (!stop()) {
    route.step();
    const got = (await recorded(id, key, route, () => kvGet(c, route.base, key, 'consistent'), (r) => ({ f: 'read', value: r.value }), () => null)).value;
    if (!got) continue;
    stats.reads++;
    const n = got.value === null ? 0 : Number(got.value.split(':')[0]);
    const next = `${n + 1}:${id}:${seq++}`;
    route.step();
    // cas=ModifyIndex holds exactly when the value is still the one read: values are never rewritten.
    const { value: ok, unknown } = await recorded(id, key, route, () => kvPut(c, route.base, key, `?cas=${got.modifyIndex}`, next),
      (r) => ({ f: 'cas', from: got.value, to: next, ok: r }), () => ({ f: 'cas', from: got.value, to: next }));
    if (unknown) stats.casIndeterminate.set(key, (stats.casIndeterminate.get(key) ?? 0) + 1);
    else if (ok) stats.casAcked.set(key, (stats.casAcked.get(key) ?? 0) + 1);
    else if (ok === false) stats.casFailed++;
  }
  c.close();
}

/** Plain writes from a small value set (rewrites of the current value included), consistent and default reads. */
async function registerWorker(id: string, route: Route, stop: () => boolean, rnd: () => number): Promise<void> {
  const c = httpClient();
  while (!stop()) {
    route.step();
    const base = route.base;
    const x = rnd();
    if (x < 0.4) {
      const value = `v${Math.floor(rnd() * 4)}`;
      const { value: ok } = await recorded(id, REGISTER, route, () => kvPut(c, base, REGISTER, '', value), () => ({ f: 'write', value }), () => ({ f: 'write', value }));
      if (ok === false) assert.fail(`plain PUT ${REGISTER} answered false`);
      if (ok) stats.writes++;
    } else if (x < 0.75) {
      if ((await recorded(id, REGISTER, route, () => kvGet(c, base, REGISTER, 'consistent'), (r) => ({ f: 'read', value: r.value }), () => null)).value) stats.reads++;
    } else {
      try {
        const r = await kvGet(c, base, REGISTER, 'default');
        defaultReads.push({ client: id, server: base, key: REGISTER, index: r.modifyIndex, value: r.value });
      } catch {
        route.next();
        await sleep(50);
      }
    }
  }
  c.close();
}

/** Session locks: acquire, hold briefly, release; any doubt (lost answer, lost lock) ends the session. */
async function lockWorker(id: string, route: Route, stop: () => boolean): Promise<void> {
  const c = httpClient();
  let session = '';
  const destroy = async () => {
    for (let i = 0; i < 50 && session; i++) {
      const res = await c.call(route.base, 'PUT', `/v1/session/destroy/${session}`).catch(() => null);
      if (res?.status === 200) session = '';
      else {
        route.next();
        await sleep(100);
      }
    }
    session = '';
  };
  while (!stop()) {
    route.step();
    if (!session) {
      const res = await c.call(route.base, 'PUT', '/v1/session/create', JSON.stringify({ Name: id, LockDelay: `${LOCK_DELAY_MS}ms`, Behavior: 'release' })).catch(() => null);
      if (res?.status === 200) session = (JSON.parse(res.body) as { ID: string }).ID;
      else {
        route.next();
        await sleep(100);
      }
      continue;
    }
    const acqCall = now();
    let acquired: boolean;
    try {
      acquired = await kvPut(c, route.base, LOCK, `?acquire=${session}`, id);
    } catch (err) {
      // 500 'invalid session' (invalidated, or not yet on this server) or an unknown outcome.
      if (!(err instanceof CallError && !err.sent)) await destroy();
      route.next();
      continue;
    }
    const acqRet = now();
    if (!acquired) {
      await sleep(20);
      continue;
    }
    await sleep(30);
    const relCall = now();
    holds.push({ client: id, acqCall, acqRet, relCall });
    const released = await kvPut(c, route.base, LOCK, `?release=${session}`, id).catch(() => undefined);
    if (released === false) lostLocks++;
    if (released !== true) await destroy();
  }
  await destroy();
  c.close();
}

/** Every server up and agreeing on a leader, and 3 healthy voting etcd members. */
async function healthy(): Promise<string> {
  return until('a healthy datacenter (one agreed leader, 3 healthy etcd voters)', 60_000, async () => {
    const leaders = await Promise.all(servers.map((s) => getJson<string>(`${s.http}/v1/status/leader`)));
    if (!leaders[0] || !leaders.every((l) => l === leaders[0])) return undefined;
    const list = await getJson<{ members?: { name?: string; isLearner?: boolean }[] }>(`${servers[0].etcdClient}/v3/cluster/member/list`, { method: 'POST', body: '{}' });
    const voters = (list?.members ?? []).filter((m) => m.name && !m.isLearner);
    if (voters.length !== 3) return undefined;
    const health = await Promise.all(servers.map((s) => getJson<{ health?: string }>(`${s.etcdClient}/health`)));
    return health.every((h) => h?.health === 'true') ? leaders[0] : undefined;
  });
}

/** Waits until autopilot removed the dead server's etcd member (its dead-server threshold is 10 s). */
async function removed(victim: Server): Promise<void> {
  const rest = servers.filter((s) => s !== victim);
  await until(`autopilot to remove ${victim.node}'s etcd member`, 60_000, async () => {
    const lists = await Promise.all(rest.map((s) => getJson<{ members?: { name?: string }[] }>(`${s.etcdClient}/v3/cluster/member/list`, { method: 'POST', body: '{}' })));
    const members = lists.find((l) => l?.members)?.members;
    return members !== undefined && !members.some((m) => m.name === victim.node);
  }, { every: 200 });
}

/** Waits until every kind of worker made progress since the call: acknowledged increments on each counter, plain writes, lock holds. */
async function progressed(): Promise<void> {
  const acked = (key: string) => stats.casAcked.get(key) ?? 0;
  const from = { a: acked(COUNTERS[0]), b: acked(COUNTERS[1]), writes: stats.writes, holds: holds.length };
  await waitFor('the workload to progress on a whole datacenter', () => acked(COUNTERS[0]) >= from.a + SPELL_OPS
    && acked(COUNTERS[1]) >= from.b + SPELL_OPS && stats.writes >= from.writes + SPELL_OPS && holds.length >= from.holds + SPELL_HOLDS, { ms: 60_000 });
}

/** machine: agent and etcd; etcd: the member only (the agent restarts it); agent: the agent only (its next start ends the orphaned member); long: a machine down past autopilot's dead-server threshold, so it is removed and rejoins as a new member; pause: SIGSTOP of agent and etcd for 4 s, then SIGCONT; etcd-pause: the same for 6 s of the member only. */
type Fault = 'machine' | 'etcd' | 'agent' | 'long' | 'pause' | 'etcd-pause';

/** One fault on one server, then waits until the datacenter is whole again; returns what it did. */
async function inject(fault: Fault, target: 'leader' | 'follower'): Promise<string> {
  const leaderAddr = await healthy();
  const victim = servers.find((s) => (target === 'leader') === (s.server === leaderAddr))!;
  const t0 = Date.now();
  if (fault === 'etcd') {
    killEtcd(victim); // the agent's supervisor restarts it
  } else if (fault === 'pause') {
    // A machine that stops answering for a while (a long GC pause, a VM migration) and resumes.
    const pids = [victim.child!.pid!, etcdPid(victim)].filter((p) => p > 0);
    for (const p of pids) process.kill(p, 'SIGSTOP');
    await sleep(4000);
    for (const p of pids) process.kill(p, 'SIGCONT');
  } else if (fault === 'etcd-pause') {
    // The server's own member stops answering: its store has no other member to ask.
    const pid = etcdPid(victim);
    process.kill(pid, 'SIGSTOP');
    await sleep(6000);
    process.kill(pid, 'SIGCONT');
  } else {
    const exited = new Promise((r) => victim.child!.once('exit', r));
    killAgent(victim);
    if (fault === 'machine' || fault === 'long') killEtcd(victim);
    await exited;
    if (fault === 'long') await removed(victim);
    else await sleep(1500);
    launch(victim);
  }
  await healthy();
  const what = fault === 'pause' ? 'SIGSTOP (4 s) and SIGCONT' : fault === 'etcd-pause' ? 'etcd SIGSTOP (6 s) and SIGCONT' : `${fault} kill -9`;
  return `${what} of the ${target} ${victim.node}: whole again after ${Date.now() - t0} ms`;
}


/** Default reads: per client and server the index never goes back, index → value is one function, every value was written. */
function checkDefaultReads(): string[] {
  const problems: string[] = [];
  const written = new Set(history.flatMap((o) => (o.op.f === 'write' ? [o.op.value] : [])));
  const last = new Map<string, number>();
  const valueAt = new Map<number, string | null>();
  for (const r of defaultReads) {
    const k = `${r.client}@${r.server}`;
    if (r.index < (last.get(k) ?? 0)) problems.push(`${k}: default read went back from index ${last.get(k)} to ${r.index}`);
    last.set(k, Math.max(r.index, last.get(k) ?? 0));
    if (valueAt.has(r.index) && valueAt.get(r.index) !== r.value) problems.push(`index ${r.index} read as ${valueAt.get(r.index)} and ${r.value}`);
    valueAt.set(r.index, r.value);
    if (r.value !== null && !written.has(r.value)) problems.push(`${k}: default read of ${r.value}, which nobody wrote`);
  }
  return problems;
}

/** Lock holders' intervals [acquire answered, min(release invoked, acquire invoked + lock-delay)] never overlap. */
function checkLockIntervals(): string[] {
  const spans = holds.map((h) => ({ ...h, end: Math.min(h.relCall, h.acqCall + LOCK_DELAY_MS) })).sort((a, b) => a.acqRet - b.acqRet);
  const problems: string[] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length && spans[j].acqRet < spans[i].end; j++) {
      problems.push(`${spans[i].client} held ${LOCK} over [${spans[i].acqRet.toFixed(1)}, ${spans[i].end.toFixed(1)}] and ${spans[j].client} acquired it at ${spans[j].acqRet.toFixed(1)}`);
    }
  }
  return problems;
}

test('faults: kill -9 of servers and etcd members under concurrent CAS, writes and locks; no acked write lost, histories linearizable', { timeout: 240_000 }, async (t) => {
  t.after(() => { if (testFailed(t)) logs.report(`test "${t.name}" failed`, servers); });
  etcdBinary();
  for (const n of ['f1', 'f2', 'f3']) await prepare(n);
  for (const s of servers) launch(s);
  await healthy();

  let stopping = false;
  const stop = () => stopping;
  const rnd = prng(8);
  const workers = [
    casWorker('cas-1', new Route(0, false), COUNTERS[0], stop),
    casWorker('cas-2', new Route(1, false), COUNTERS[0], stop),
    casWorker('cas-3', new Route(2, true), COUNTERS[0], stop),
    casWorker('cas-4', new Route(1, false), COUNTERS[1], stop),
    casWorker('cas-5', new Route(2, true), COUNTERS[1], stop),
    registerWorker('reg-1', new Route(0, false), stop, rnd),
    registerWorker('reg-2', new Route(1, true), stop, rnd),
    lockWorker('lock-1', new Route(0, false), stop),
    lockWorker('lock-2', new Route(1, false), stop),
    lockWorker('lock-3', new Route(2, true), stop),
  ];

  // The nemesis: one fault at a time, each followed by a healthy spell, so quorum stays possible;
  // a spell lasts until every kind of worker went on (≈ 1 s) rather than a fixed 2 s.
  await progressed();
  const plan: [Fault, 'leader' | 'follower'][] = [['machine', 'follower'], ['etcd', 'leader'], ['agent', 'leader'], ['machine', 'leader'], ['pause', 'leader'], ['etcd-pause', 'leader'], ['etcd', 'follower'], ['long', 'follower']];
  try {
    for (const [fault, target] of plan) {
      t.diagnostic(await inject(fault, target));
      await progressed();
    }
  } finally {
    stopping = true;
    await Promise.allSettled(workers);
  }
  await Promise.all(workers);

  // The final state, read linearizably, joins the histories.
  const c = httpClient();
  const finals = new Map<string, string | null>();
  for (const key of [...COUNTERS, REGISTER]) {
    const call = now();
    const got = await kvGet(c, servers[0].http, key, 'consistent');
    history.push({ key, client: 'final', call, ret: now(), op: { f: 'read', value: got.value } });
    finals.set(key, got.value);
  }
  c.close();

  const verdict = checkRegisterHistory(history);
  if (LOG) fs.writeFileSync(`${LOG}-history.json`, JSON.stringify(history.map((o) => ({ ...o, ret: o.ret === Infinity ? null : o.ret }))));
  t.diagnostic(`ops: ${history.length} (${stats.reads} reads, ${stats.writes} writes, ${[...stats.casAcked.values()].reduce((a, b) => a + b, 0)} acked CAS, ${stats.casFailed} failed CAS), ` +
    `${stats.errors} errors/timeouts, ${stats.switches} server switches, ${defaultReads.length} default reads, ${holds.length} lock holds, ${lostLocks} locks lost to invalidation`);
  for (const k of verdict.keys) t.diagnostic(`${k.key}: ${k.ops} ops, ${k.indeterminate} indeterminate, ${k.verdict.ok === true ? 'linearizable' : k.verdict.ok === false ? 'NOT linearizable' : 'undecided'} (${k.verdict.steps} search steps)`);

  for (const key of COUNTERS) {
    const n = Number((finals.get(key) ?? '0').split(':')[0]);
    const acked = stats.casAcked.get(key) ?? 0;
    const unknown = stats.casIndeterminate.get(key) ?? 0;
    t.diagnostic(`${key}: final ${n}, acknowledged increments ${acked}, indeterminate ${unknown}`);
    assert.ok(n >= acked, `${key}: ${acked} increments acknowledged but the counter is ${n}: acknowledged writes were lost`);
    assert.ok(n <= acked + unknown, `${key}: counter ${n} exceeds ${acked} acknowledged + ${unknown} indeterminate increments`);
    assert.ok(acked > 20, `${key}: only ${acked} increments acknowledged; the workload did not run`);
  }
  assert.deepEqual(verdict.failures, [], 'histories must be linearizable');
  assert.deepEqual(checkDefaultReads(), []);
  assert.deepEqual(checkLockIntervals(), []);
  assert.ok(holds.length > 10, `only ${holds.length} lock holds`);
});
