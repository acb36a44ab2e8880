// api.Lock, api.Semaphore and session renewal through the typed client against a real dev
// agent: exclusion, LockIndex, hand-over, loss on session invalidation, the semaphore limit,
// Consul's error texts and the exact uint64 flags on the wire.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsulClient, LockError, SessionExpiredError, type Lock, type Semaphore } from '../src/api/index.ts';
import { ManualClock } from '../src/clock.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

let dev: DevAgent;
let client: ConsulClient;

before(async () => {
  // A low TTL floor lets the renewal tests use 1s sessions.
  dev = await startDevAgent({ config: { sessionTtlMin: 100 } });
  client = new ConsulClient({ address: dev.httpAddr });
});
after(async () => {
  client.close();
  await dev.stop();
});

/** Resolves to 'pending' if `p` has not settled within `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([p, sleep(ms).then(() => 'pending' as const)]);
}

async function rawPair(key: string): Promise<string> {
  const res = await client.request({ method: 'GET', path: `/v1/kv/${key}`, accept: [404] });
  return res.body.toString('utf8');
}

describe('Lock', () => {
  test('two holders exclude each other; LockIndex counts; unlock hands over', async () => {
    const a: Lock = client.lockOpts({ key: 'svc/leader', value: 'A' });
    const b: Lock = client.lockOpts({ key: 'svc/leader', value: 'B' });
    const lostA = await a.lock();
    assert.ok(lostA);
    const waiting = b.lock();
    assert.equal(await within(waiting, 300), 'pending', 'the second contender waits');
    const first = (await client.kv.get('svc/leader')).data!;
    assert.equal(first.LockIndex, 1);
    assert.equal(Buffer.from(first.Value!, 'base64').toString(), 'A');
    // The flag goes over the wire as the exact uint64 Consul's Go client compares with.
    assert.match(await rawPair('svc/leader'), /"Flags":3304740253564472344[,}]/);

    await a.unlock();
    const lostB = await within(waiting, 2000);
    assert.ok(lostB instanceof AbortSignal, 'unlock hands the lock over at once (no lock-delay)');
    assert.equal(lostA.aborted, true, 'the released handle reports the lock gone');
    const second = (await client.kv.get('svc/leader')).data!;
    assert.equal(second.LockIndex, 2);
    assert.equal(Buffer.from(second.Value!, 'base64').toString(), 'B');
    assert.equal(lostB.aborted, false);

    await assert.rejects(b.lock(), { name: 'LockError', message: 'Lock already held' });
    await assert.rejects(b.destroy(), { message: 'Lock already held' });
    await assert.rejects(a.unlock(), { message: 'Lock not held' });
    await b.unlock();
    await a.destroy();
    assert.equal((await client.kv.get('svc/leader')).data, null, 'destroy deletes the free lock key');
  });

  test('the lock is reported lost when its session is destroyed, and its session is gone after unlock', async () => {
    const l = client.lockKey('lost/key');
    const lost = (await l.lock())!;
    const session = (await client.kv.get('lost/key')).data!.Session!;
    assert.ok((await client.session.info(session)).data, 'the lock created a session');
    await client.session.destroy(session);
    await within(new Promise((r) => lost.addEventListener('abort', r)), 3000);
    assert.equal(lost.aborted, true);
    await l.unlock();
    assert.equal((await client.session.info(session)).data, null);
  });

  test('a key used otherwise is a conflict; a one-shot attempt times out; stop aborts waiting', async () => {
    await client.kv.put('plain/key', 'x');
    await assert.rejects(client.lockKey('plain/key').lock(), (err: unknown) =>
      err instanceof LockError && err.code === 'conflict' && err.message === 'Existing key does not match lock use');
    const holder = client.lockKey('once/key');
    await holder.lock();
    const t0 = Date.now();
    assert.equal(await client.lockOpts({ key: 'once/key', lockTryOnce: true, lockWaitTime: 400 }).lock(), null);
    assert.ok(Date.now() - t0 >= 350, 'waited about lockWaitTime');
    const stop = new AbortController();
    const pending = client.lockKey('once/key').lock(stop.signal);
    setTimeout(() => stop.abort(), 100);
    assert.equal(await within(pending, 2000), null);
    await holder.unlock();
    assert.deepEqual((await client.session.list()).data.filter((s) => s.Name === 'Consul API Lock'), [], 'no session is left behind');
  });
});

describe('Semaphore', () => {
  test('limit 2 admits two and blocks a third until one releases', async () => {
    const [s1, s2, s3]: Semaphore[] = [1, 2, 3].map(() => client.semaphorePrefix('sem/pool', 2));
    assert.ok(await s1.acquire());
    assert.ok(await s2.acquire());
    const third = s3.acquire();
    assert.equal(await within(third, 300), 'pending');
    const lockPair = (await client.kv.get('sem/pool/.lock')).data!;
    const record = JSON.parse(Buffer.from(lockPair.Value!, 'base64').toString()) as { Limit: number; Holders: Record<string, boolean> };
    assert.equal(record.Limit, 2);
    assert.equal(Object.keys(record.Holders).length, 2);
    assert.match(await rawPair('sem/pool/.lock'), /"Flags":16210313421097356768[,}]/);
    const contenders = (await client.kv.keys('sem/pool/')).data;
    assert.equal(contenders.length, 4, 'three contender entries and the .lock key');

    await assert.rejects(client.semaphorePrefix('sem/pool', 3).acquire(), { message: 'semaphore limit conflict (lock: 2, local: 3)' });
    await assert.rejects(client.lockKey('sem/pool/.lock').lock(), { message: 'Existing key does not match lock use' });

    await s1.release();
    assert.ok((await within(third, 2000)) instanceof AbortSignal, 'the third gets the freed slot');
    await assert.rejects(s1.release(), { message: 'Semaphore not held' });
    await assert.rejects(s2.destroy(), { message: 'Semaphore already held' });
    await s2.release();
    await assert.rejects(s1.destroy(), { message: 'Semaphore in use' });
    await s3.release();
    await s1.destroy();
    assert.deepEqual((await client.kv.keys('sem/pool/')).data, [], 'release deletes contender entries, destroy the .lock key');
  });

  test('a slot is lost when its session is destroyed', async () => {
    const s = client.semaphorePrefix('sem/lost', 2);
    const lost = (await s.acquire())!;
    const keys = (await client.kv.keys('sem/lost/')).data;
    const session = keys.find((k) => !k.endsWith('.lock'))!.slice('sem/lost/'.length);
    await client.session.destroy(session);
    await within(new Promise((r) => lost.addEventListener('abort', r)), 3000);
    assert.equal(lost.aborted, true);
    await s.release();
  });
});

describe('Session.renewPeriodic', () => {
  test('keeps a TTL session alive past 2×TTL, destroys it when stopped', async () => {
    const id = (await client.session.create({ Name: 'renewed', TTL: '1s' })).data;
    const stop = new AbortController();
    const loop = client.session.renewPeriodic('1s', id, stop.signal);
    await sleep(2600);
    assert.ok((await client.session.info(id)).data, 'still alive after 2.6s of a 1s TTL');
    stop.abort();
    await loop;
    assert.equal((await client.session.info(id)).data, null);
  });

  test('rejects with "session expired" once the session is gone', async () => {
    const id = (await client.session.create({ TTL: '1s' })).data;
    const loop = client.session.renewPeriodic('1s', id, new AbortController().signal);
    await client.session.destroy(id);
    await assert.rejects(loop, (err: unknown) => err instanceof SessionExpiredError && err.message === 'session expired');
    assert.equal((await client.session.renew(id)).data, null, 'renew answers null for an unknown session');
  });

  test('retries failed renewals every second and gives up with the last error once a TTL has passed', async () => {
    const clock = new ManualClock();
    const unreachable = new ConsulClient({ address: '127.0.0.1:1' });
    const loop = unreachable.session.renewPeriodic('10s', 'no-such-session', new AbortController().signal, { clock });
    let settled = false;
    void loop.catch(() => undefined).finally(() => { settled = true; });
    let advanced = 0;
    // Renewals at 5s, then every 1s after each failure; the first check past 10s gives up.
    while (!settled && advanced < 60_000) {
      clock.advance(500);
      advanced += 500;
      await sleep(20);
    }
    await assert.rejects(loop, { name: 'TransportError' });
    assert.ok(advanced > 10_000 && advanced <= 15_000, `gave up after ${advanced}ms of clock time`);
    unreachable.close();
  });
});
