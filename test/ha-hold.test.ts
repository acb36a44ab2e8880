// Consul's RPC hold (performance.rpc_hold_timeout) on a managed datacenter of real processes:
// KV writes sent the moment the datacenter has formed, and the moment its leader's machine
// (agent and etcd member) is killed, are acknowledged without the test retrying anything,
// while /v1/status/leader and ?stale reads keep answering; with no quorum left, writes and
// consistent reads answer Consul's 500 `No cluster leader` once the hold has run out.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManagedDc, type ManagedServer } from './support/managed-dc.ts';
import { waitFor } from './support/wait.ts';

const dc = new ManagedDc('hold');
// Also when the test is filtered out or never starts (stopAfter then never runs).
after(() => dc.stop());

/** PUT `value` at `key` through `s`: the status and body, never retried. */
async function put(s: ManagedServer, key: string, value: string): Promise<string> {
  const res = await fetch(`${s.http}/v1/kv/${key}`, { method: 'PUT', body: value });
  return `${res.status} ${await res.text()}`;
}

/** Whether `s`'s etcd member reports no leader (etcd's maintenance status, 0 = none). */
async function leaderless(s: ManagedServer): Promise<boolean> {
  const res = await fetch(`${s.etcdClient}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) }).catch(() => null);
  const body = (await res?.json().catch(() => null)) as { leader?: string } | null;
  return body !== null && (body.leader === undefined || body.leader === '0');
}

const read = async (s: ManagedServer, key: string, mode: string) => {
  const res = await fetch(`${s.http}/v1/kv/${key}?raw&${mode}`);
  return `${res.status} ${await res.text()}`;
};

test('writes sent right after formation and right after the leader dies are held, then acknowledged', { timeout: 180_000 }, async (t) => {
  dc.stopAfter(t);
  const prepared = await Promise.all(['h1', 'h2', 'h3'].map((n) => dc.prepare(n, { autopilot: { server_stabilization_time: '2s' } })));
  const t0 = Date.now();
  const three = prepared.map((p) => dc.launch(p, prepared, 3));
  const leaderAddr = await dc.agreedLeader(three, 60_000);
  // The moment the election agrees: every server takes a write at once (etcd's members may still
  // be joining, its leadership moving to the Proconsul leader's member).
  const formed = await Promise.all(three.map((s, i) => put(s, `hold/formed/${i}`, `v${i}`)));
  process.stdout.write(`# writes right after formation acknowledged ${Date.now() - t0} ms after launch\n`);
  assert.deepEqual(formed, ['200 true', '200 true', '200 true']);
  for (const s of three) assert.equal(await read(s, 'hold/formed/2', 'consistent'), '200 v2');

  const leader = three.find((s) => s.server === leaderAddr)!;
  const rest = three.filter((s) => s !== leader);
  const t1 = Date.now();
  dc.killHard(leader);
  // Sent before anyone has noticed the loss: writes, a consistent read, the leader and a stale read.
  const writes = Promise.all(rest.map((s, i) => put(s, `hold/after/${i}`, `w${i}`)));
  const consistent = read(rest[0], 'hold/formed/0', 'consistent');
  assert.equal(await read(rest[1], 'hold/formed/1', 'stale'), '200 v1', 'a stale read answers without waiting');
  const status = await fetch(`${rest[0].http}/v1/status/leader`);
  assert.equal(status.status, 200);
  assert.deepEqual(await writes, ['200 true', '200 true']);
  assert.equal(await consistent, '200 v0');
  process.stdout.write(`# writes sent right after the leader's kill -9 acknowledged ${Date.now() - t1} ms after it\n`);
  // The survivors name the dead leader until its election lease runs out: wait for another one.
  const next = await dc.agreedLeader(rest, 30_000, leaderAddr);
  for (const s of rest) assert.equal(await read(s, 'hold/after/1', 'consistent'), '200 w1');

  // One server of three left: etcd has no quorum, so no leader; past the hold, Consul's answer.
  // (A write sent before its member notices would end with its outcome unknown: a 503.)
  const [last, other] = rest;
  dc.killHard(other);
  await waitFor('the last member without a leader', () => leaderless(last), { ms: 20_000, every: 100 });
  const [lost, lostRead] = await Promise.all([put(last, 'hold/lost', 'x'), read(last, 'hold/formed/0', 'consistent')]);
  assert.equal(lost, '500 No cluster leader');
  assert.equal(lostRead, '500 No cluster leader');
  assert.equal(await read(last, 'hold/formed/0', 'stale'), '200 v0', 'a stale read still answers');
  assert.equal((await fetch(`${last.http}/v1/status/leader`)).status, 200);
});
