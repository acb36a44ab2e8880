// Patroni (Debian's patroni 3.0 with python3-consul, PostgreSQL 15) keeping its leader lock in a real
// `proconsul agent` process as its Consul DCS: two nodes bootstrap one primary and one streaming
// replica (the initialize key by CAS, the leader key acquired by a TTL session, service
// registration with HTTP checks), a switchover moves the lock by Patroni's failover key and a CAS
// delete of the leader key, then the primary's Patroni and PostgreSQL are killed -9 and the replica
// must take the lock and be promoted once the dead node's session expires.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './support/ports.ts';
import { killAll, spawnProconsul } from './support/procs.ts';
import { getJson, logTails, until } from './support/wait.ts';
import { anyAlive, killNode, ownForPostgres, patronictl, patroniMissing, psql, startPatroni, type DcsTimings, type PatroniNode } from './support/patroni.ts';

const SCOPE = 'pgha';
// Patroni creates its session with TTL ttl/2 (Consul keeps a session for twice its TTL), so the
// lock outlives a dead holder by at most `ttl`; loop_wait + 2 × retry_timeout ≤ ttl, as Patroni asks.
const TIMINGS: DcsTimings = { ttl: 8, loopWait: 1, retryTimeout: 3 };
const SESSION_TTL_S = TIMINGS.ttl / 2;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-'));
let agent: ChildProcess | undefined;
let agentLog = '';
let consul = '';
const nodes: PatroniNode[] = [];
let ttlProbe: Promise<string> | undefined;

interface KvEntry { Key: string; Value: string | null; Session?: string; ModifyIndex: number }
interface SessionInfo { ID: string; Name: string; Behavior: string; TTL: string; LockDelay: number; NodeChecks: string[] | null }
interface ClusterMember { name: string; role: string; state: string; api_url: string }
interface PatroniStatus { role: string; state: string; replication?: { application_name: string; state: string; usename: string }[] }
interface CatalogService { ServiceID: string; ServiceTags: string[]; ServicePort: number }

/** The logs of the agent and each node, for a timeout message. */
function logs(): string {
  return logTails([['proconsul', agentLog], ...nodes.map((n): [string, string] => [`patroni ${n.name}`, n.log()])], 4000);
}

/** GETs `path` on the agent as JSON (undefined on any failure). */
function consulGet<T>(p: string): Promise<T | undefined> {
  return getJson<T>(`http://${consul}${p}`);
}

/** The leader key: the holder's name and session, when held. */
async function leaderKey(): Promise<{ name: string; session: string } | undefined> {
  const kv = await consulGet<KvEntry[]>(`/v1/kv/service/${SCOPE}/leader`);
  const e = kv?.[0];
  if (!e?.Session || e.Value === null) return undefined;
  return { name: Buffer.from(e.Value, 'base64').toString(), session: e.Session };
}

/** Patroni's REST answer to GET `p` on `node`: its status code (0 when unreachable). */
async function apiStatus(node: PatroniNode, p: string): Promise<number> {
  try {
    return (await fetch(`${node.api}${p}`, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return 0;
  }
}

/** Starts a dev agent process on free ports, with a 1s session TTL floor so Patroni's 4s sessions are allowed. */
async function startAgent(): Promise<void> {
  const http = await freePort();
  const cfg = path.join(tmp, 'agent.json');
  fs.writeFileSync(cfg, JSON.stringify({
    session_ttl_min: '1s',
    ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort(), server: await freePort() },
  }));
  agent = spawnProconsul(['agent', '-dev', '-node', 'dcs', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-config-file', cfg],
    (t) => { agentLog += t; });
  consul = `127.0.0.1:${http}`;
  await until('the agent to elect itself', 20_000, async () => (await consulGet<string>('/v1/status/leader')) || undefined, { context: logs });
}

/**
 * Patroni's Consul DCS asking for a session TTL (ttl 1 → 0.5s) below the agent's 1s floor: on Consul's
 * 500 "Invalid Session TTL" it reads agent/self's Config.SessionTTLMin and retries with that. Its output.
 */
function probeAdjustTtl(): Promise<string> {
  const script = [
    'import logging, sys', 'logging.basicConfig(level=logging.WARNING, stream=sys.stdout)',
    'from patroni.dcs.consul import Consul',
    `d = Consul({'host': '${consul}', 'scope': 'ttl-probe', 'name': 'p1', 'namespace': '/service/', 'ttl': 1, 'loop_wait': 1, 'retry_timeout': 3})`,
    "print('SESSION TTL', d._client.session.info(d._session)[1]['TTL'])",
  ].join('\n');
  const py = spawn('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  py.stdout!.on('data', (c: Buffer) => { out += c; });
  py.stderr!.on('data', (c: Buffer) => { out += c; });
  const timer = setTimeout(() => py.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => py.on('close', () => { clearTimeout(timer); resolve(out); }));
}

/** The leader and the replica, once Patroni reports one of each with the replica streaming from the leader. */
async function settledPair(ms: number): Promise<{ leader: PatroniNode; replica: PatroniNode }> {
  return until('one leader and one streaming replica', ms, async () => {
    const members = (await getJson<{ members: ClusterMember[] }>(`${nodes[0].api}/cluster`))?.members ?? [];
    const l = members.find((m) => m.role === 'leader' && m.state === 'running');
    const r = members.find((m) => m.role === 'replica' && m.state === 'running');
    if (!l || !r) return undefined;
    const leader = nodes.find((n) => n.name === l.name)!;
    const replica = nodes.find((n) => n.name === r.name)!;
    const status = await getJson<PatroniStatus>(`${leader.api}/patroni`);
    const streaming = status?.replication?.some((s) => s.application_name === replica.name && s.state === 'streaming');
    return streaming ? { leader, replica } : undefined;
  }, { context: logs, every: 250 });
}

before(async () => {
  const missing = patroniMissing();
  if (missing) assert.fail(missing);
  ownForPostgres(tmp);
  await startAgent();
  // Beside the cluster's bootstrap, so its 5 s "waiting on consul" pause costs no time.
  ttlProbe = probeAdjustTtl();
  // Both at once, as a cluster is usually started: they race for the initialize key (CAS 0).
  for (const name of ['pg1', 'pg2']) {
    nodes.push(startPatroni({
      scope: SCOPE, name, consul, apiPort: await freePort(), pgPort: await freePort(), dir: path.join(tmp, name), timings: TIMINGS,
    }));
  }
});

after(async () => {
  const killed = nodes.flatMap((n) => killNode(n));
  killAll([agent]);
  await until('every Patroni and PostgreSQL process gone', 10_000, async () => !anyAlive(killed) || undefined).catch(() => undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('Patroni with Proconsul as its Consul DCS', { timeout: 90_000 }, () => {
  let pair: { leader: PatroniNode; replica: PatroniNode };

  test('bootstraps one leader holding the lock by a TTL session and one streaming replica', async () => {
    pair = await settledPair(45_000);
    const { leader, replica } = pair;
    assert.equal(await apiStatus(leader, '/leader'), 200);
    assert.equal(await apiStatus(replica, '/replica'), 200);
    assert.equal(await apiStatus(replica, '/leader'), 503);

    const held = await leaderKey();
    assert.equal(held?.name, leader.name);
    const [session] = (await consulGet<SessionInfo[]>(`/v1/session/info/${held!.session}`)) ?? [];
    assert.equal(session?.Name, `${SCOPE}-${leader.name}`);
    assert.equal(session.Behavior, 'delete');

    // The initialize key holds the cluster's system identifier, written once by the winner of the CAS.
    const [init] = (await consulGet<KvEntry[]>(`/v1/kv/service/${SCOPE}/initialize`)) ?? [];
    assert.match(Buffer.from(init?.Value ?? '', 'base64').toString(), /^\d{10,}$/);

    const services = await until('both nodes registered with their role tags', 15_000, async () => {
      const s = (await consulGet<CatalogService[]>(`/v1/catalog/service/${SCOPE}`)) ?? [];
      const roles = new Set(s.flatMap((e) => e.ServiceTags));
      return s.length === 2 && roles.has('primary') && roles.has('replica') ? s : undefined;
    }, { context: logs });
    const byId = new Map(services.map((s) => [s.ServiceID, s]));
    assert.ok(byId.get(`${SCOPE}/${leader.name}`)?.ServiceTags.includes('primary'));
    assert.equal(byId.get(`${SCOPE}/${replica.name}`)?.ServicePort, replica.pgPort);

    // patronictl reads the same cluster from the DCS, and edit-config writes the config key by CAS on its ModifyIndex.
    const listed = JSON.parse(patronictl(leader, ['list', '-f', 'json'])) as { Member: string; Role: string }[];
    assert.deepEqual(listed.map((m) => [m.Member, m.Role]).sort(), [[leader.name, 'Leader'], [replica.name, 'Replica']].sort());
    patronictl(leader, ['edit-config', '--force', '--set', 'maximum_lag_on_failover=2097152']);
    await until('the edited config on the nodes', 10_000, async () =>
      (await getJson<{ maximum_lag_on_failover?: number }>(`${replica.api}/config`))?.maximum_lag_on_failover === 2097152 || undefined, { context: logs });

    psql(leader, 'CREATE TABLE failover_probe (v text); INSERT INTO failover_probe VALUES (\'before\')');
    await until('the row on the replica', 10_000, async () => psql(replica, 'SELECT v FROM failover_probe') === 'before' || undefined, { retryErrors: true, context: logs });
  });

  test('a switchover through the REST API hands the lock to the replica, and the old leader follows it', async () => {
    assert.ok(pair, 'the bootstrap test settled a pair');
    const { leader, replica } = pair;
    const before = await leaderKey();
    const res = await fetch(`${leader.api}/switchover`, {
      method: 'POST', body: JSON.stringify({ leader: leader.name, candidate: replica.name }), signal: AbortSignal.timeout(30_000),
    });
    assert.equal(res.status, 200, await res.text());
    const held = await leaderKey();
    assert.equal(held?.name, replica.name);
    assert.notEqual(held?.session, before?.session);
    // The failover key the REST API wrote ({"leader","member"}) is emptied by the new leader once it holds the lock.
    await until('the failover key cleaned up', 10_000, async () => {
      const [e] = (await consulGet<KvEntry[]>(`/v1/kv/service/${SCOPE}/failover`)) ?? [];
      return Buffer.from(e?.Value ?? '', 'base64').toString() === '{}' || undefined;
    }, { context: logs });
    pair = await settledPair(30_000);
    assert.deepEqual([pair.leader.name, pair.replica.name], [replica.name, leader.name]);
    await until('the old leader to replay the new leader\'s writes', 10_000, async () => {
      psql(pair.leader, 'INSERT INTO failover_probe VALUES (\'switched\')');
      return psql(pair.replica, 'SELECT count(*) FROM failover_probe WHERE v = \'switched\'') !== '0' || undefined;
    }, { retryErrors: true, context: logs, every: 500 });
  });

  test('kill -9 of the leader: the replica takes the lock once the session expires and is promoted', async () => {
    assert.ok(pair, 'the bootstrap test settled a pair');
    const { leader, replica } = pair;
    const before = await leaderKey();
    const t0 = Date.now();
    const killed = killNode(leader);
    assert.ok(killed.length >= 3, `killed Patroni, its runner and PostgreSQL: ${killed}`);
    await until('the leader\'s Patroni and PostgreSQL gone', 5_000, async () => !anyAlive(killed) || undefined);

    // The dead node's session ends ttl/2 × 2 = ttl after its last renewal (at most a loop before the kill);
    // then the replica needs a loop and a DCS round to take the lock.
    const bound = (TIMINGS.ttl + TIMINGS.loopWait + TIMINGS.retryTimeout) * 1000 + 5_000;
    const took = await until('the replica to take the leader key', bound, async () => {
      const held = await leaderKey();
      return held?.name === replica.name ? held : undefined;
    }, { context: logs });
    const tookMs = Date.now() - t0;
    assert.notEqual(took.session, before?.session);
    // Consul keeps a session twice its TTL: the lock cannot move sooner than one TTL after the kill.
    assert.ok(tookMs >= SESSION_TTL_S * 1000, `lock moved ${tookMs} ms after the kill, before the session could expire`);

    await until('the replica promoted', 20_000, async () => (await apiStatus(replica, '/leader')) === 200 || undefined, { context: logs });
    // Patroni 3.0 answers /leader (and /primary) 200 as soon as it holds the lock; its promotion
    // (pg_ctl promote -W, then polling pg_controldata) ends a moment later, and a write sent
    // before then is refused as read-only: wait for PostgreSQL to leave recovery first.
    await until('the replica\'s PostgreSQL out of recovery', 20_000, async () => psql(replica, 'SELECT pg_is_in_recovery()') === 'f' || undefined, { retryErrors: true, context: logs });
    const [session] = (await consulGet<SessionInfo[]>(`/v1/session/info/${took.session}`)) ?? [];
    assert.equal(session?.Name, `${SCOPE}-${replica.name}`);
    assert.equal(await consulGet(`/v1/session/info/${before!.session}`).then((s) => (s as unknown[])?.length), 0, 'the dead leader\'s session is gone');
    psql(replica, 'INSERT INTO failover_probe VALUES (\'after\')');
    assert.equal(psql(replica, 'SELECT string_agg(DISTINCT v, \',\' ORDER BY v) FROM failover_probe'), 'after,before,switched');
    await until('the promoted node registered as primary', 15_000, async () => {
      const s = (await consulGet<CatalogService[]>(`/v1/catalog/service/${SCOPE}`)) ?? [];
      return s.find((e) => e.ServiceID === `${SCOPE}/${replica.name}`)?.ServiceTags.includes('primary') || undefined;
    }, { context: logs });
  });

  test('a session TTL below session_ttl_min: Patroni lifts it to the floor agent/self reports, and gets its session', async () => {
    const out = await ttlProbe!;
    assert.match(out, /Invalid Session TTL '500000000', must be between \[1s=24h0m0s\]/);
    assert.match(out, /Changing Session TTL from 0\.5 to 1\.0/);
    assert.match(out, /SESSION TTL 1\.0s/);
  });
});
