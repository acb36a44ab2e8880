// The etcd backend's hold (Consul's performance.rpc_hold_timeout) on a real 3-member etcd 3.4
// cluster whose surviving member has lost its leader: etcd refuses requests at once with
// `no leader` (nothing proposed), a write sent then is held and acknowledged once a quorum is back
// (applied once), and a request held past the hold gets Consul's 500 `No cluster leader`.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManualClock } from '../src/clock.ts';
import { ClosedError } from '../src/errors.ts';
import { errorResponse } from '../src/http/errors.ts';
import { EtcdStore } from '../src/store/etcd/etcd.ts';
import { startEtcd, type EtcdCluster } from './support/etcd.ts';
import { waitFor } from './support/wait.ts';

let cluster: EtcdCluster | null = null;
const stores: EtcdStore[] = [];
after(async () => {
  for (const s of stores) await s.close();
  await cluster?.stop();
});

/** Whether member 0 reports no leader (etcd's maintenance status, 0 = none). */
async function leaderless(c: EtcdCluster): Promise<boolean> {
  const res = await fetch(`${c.endpoints[0]}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) }).catch(() => null);
  const body = (await res?.json().catch(() => null)) as { leader?: string } | null;
  return body !== null && (body.leader === undefined || body.leader === '0');
}

const put = (key: string, value: string) => ({ type: 'put' as const, key, value: Buffer.from(value) });

test('a write sent while etcd has no leader is held until one is elected, then applied once', { timeout: 120_000 }, async () => {
  cluster = await startEtcd(3);
  const c = cluster;
  const open = async (holdMs: number) => {
    const s = new EtcdStore({ endpoints: [c.endpoints[0]], prefix: '/hold/', hold: { holdMs } });
    await s.open();
    stores.push(s);
    return s;
  };
  const held = await open(60_000);
  const brief = await open(0);
  await held.txn({ success: [put('before', 'x')] });

  // Without a quorum member 0 has no leader (etcd's check-quorum steps a lone leader down).
  await c.kill(1);
  await c.kill(2);
  await waitFor('member 0 without a leader', () => leaderless(c), { ms: 20_000, every: 100 });

  // No hold: Consul's answer at once, from etcd's refusal before any proposal (not a deadline).
  const refused = await brief.txn({ success: [put('refused', 'x')] }).then(() => null, (err: unknown) => err);
  assert.deepEqual(errorResponse(refused), { status: 500, message: 'No cluster leader' });
  assert.match(String((refused as Error).cause), /etcdserver: no leader/);

  // Held: the write waits for the election instead of failing; a quorum comes back meanwhile.
  let settled = false;
  const write = held.txn({ compares: [{ key: 'k', target: 'version', op: '=', value: 0 }], success: [put('k', 'v1')] })
    .finally(() => { settled = true; });
  // A consistent read is held the same way.
  const read = held.currentRevision();
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(settled, false, 'the write is held while there is no leader');
  await c.restart(1);
  const res = await write;
  assert.equal(res.succeeded, true);
  assert.ok((await read) >= 1);
  const kv = await held.get('k');
  assert.equal(kv?.version, 1, 'applied exactly once');
  assert.equal(kv?.modRevision, res.revision);
  assert.equal(await brief.get('refused'), null, 'the refused write was not applied');
});

test('closing the store ends a request held in a pause of the hold (on the agent\'s clock) at once', { timeout: 30_000 }, async () => {
  const one = await startEtcd(1);
  const clock = new ManualClock();
  // Timers armed and neither fired nor cancelled.
  const armed = new Set<object>();
  const setTimer = clock.setTimer.bind(clock);
  clock.setTimer = (ms, fn) => {
    const t = {};
    armed.add(t);
    const h = setTimer(ms, () => { armed.delete(t); fn(); });
    return { cancel: () => { armed.delete(t); h.cancel(); } };
  };
  const s = new EtcdStore({ endpoints: [one.endpoints[0]], prefix: '/hold-close/', hold: { clock, holdMs: 60_000 } });
  await s.open();
  await one.stop();
  // Every attempt is refused before etcd could get it: held, pausing on a clock that never moves.
  const write = s.txn({ success: [put('k', 'v')] }).then(() => null, (err: unknown) => err);
  await waitFor('the write pausing in the hold', () => armed.size > 0, { ms: 10_000 });
  await s.close();
  const err = await write;
  assert.ok(err instanceof ClosedError, String(err));
  assert.equal(armed.size, 0, 'the pause\'s timer is cancelled');
});
