import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier } from './notify.ts';
import { ManualClock } from '../clock.ts';

function notifier(clock = new ManualClock()): { n: Notifier; clock: ManualClock } {
  return { n: new Notifier(clock), clock };
}

test('a key change wakes the waiters of that key, its prefixes and its table, nobody else', async () => {
  const { n } = notifier();
  const woken: string[] = [];
  const reg = (name: string, f: (ws: ReturnType<Notifier['watchSet']>) => void): void => {
    const ws = n.watchSet();
    f(ws);
    void ws.wait(60_000).then((w) => { if (w) woken.push(name); });
  };
  reg('exact', (ws) => ws.addKey('kvs', 'a/b/c'));
  reg('other-key', (ws) => ws.addKey('kvs', 'a/b/d'));
  reg('prefix', (ws) => ws.addPrefix('kvs', 'a/'));
  reg('root-prefix', (ws) => ws.addPrefix('kvs', ''));
  reg('other-prefix', (ws) => ws.addPrefix('kvs', 'b/'));
  reg('table', (ws) => ws.addTable('kvs'));
  reg('other-table', (ws) => ws.addTable('sessions'));
  n.changed('kvs', 'a/b/c');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(woken.sort(), ['exact', 'prefix', 'root-prefix', 'table']);
  assert.equal(n.wakeups, 4);
  assert.equal(n.blocked, 3);
});

test('a wait times out with false, and leaves no registration behind', async () => {
  const { n, clock } = notifier();
  const p = n.watchSet().addKey('kvs', 'x').wait(1000);
  clock.advance(999);
  let done = false;
  void p.then(() => { done = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  clock.advance(1);
  assert.equal(await p, false);
  assert.equal(n.blocked, 0);
  n.changed('kvs', 'x');
  assert.equal(n.wakeups, 0);
});

test('abort ends a wait with false', async () => {
  const { n } = notifier();
  const ac = new AbortController();
  const p = n.watchSet().addKey('kvs', 'x').wait(60_000, ac.signal);
  ac.abort();
  assert.equal(await p, false);
  assert.equal(n.blocked, 0);
});

test('10,000 blocked queries on 10,000 keys: one write wakes exactly one', async () => {
  const { n } = notifier();
  const results: Promise<boolean>[] = [];
  for (let i = 0; i < 10_000; i++) results.push(n.watchSet().addKey('kvs', `svc/${i}/leader`).wait(600_000));
  assert.equal(n.blocked, 10_000);
  assert.equal(n.timers, 1, 'one timer serves every blocked query');
  n.changed('kvs', 'svc/4242/leader');
  assert.equal(await results[4242], true);
  assert.equal(n.wakeups, 1);
  assert.equal(n.blocked, 9_999);
  n.changedAll();
  // Released in batches, one per event-loop turn.
  assert.ok(n.wakeups < 10_000);
  assert.deepEqual(new Set(await Promise.all(results)), new Set([true]));
  assert.equal(n.wakeups, 10_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(n.timers, 0, 'no timer is left once nothing waits');
});

test('timeouts fire in deadline order from a single timer, skipping waits that ended early', async () => {
  const { n, clock } = notifier();
  const order: number[] = [];
  const waits = [3000, 1000, 2000, 1500].map((ms, i) => n.watchSet().addKey('kvs', `k${i}`).wait(ms).then((w) => { if (!w) order.push(ms); }));
  n.changed('kvs', 'k3');
  assert.equal(n.timers, 1);
  clock.advance(2000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [1000, 2000]);
  clock.advance(1000);
  await Promise.all(waits);
  assert.deepEqual(order, [1000, 2000, 3000]);
  assert.equal(n.timers, 0);
});

test('a wave of wake-ups is released in batches, one per deferred turn, skipping waiters that ended meanwhile', async () => {
  const deferred: (() => void)[] = [];
  const n = new Notifier(new ManualClock(), { batch: 2, defer: (fn) => deferred.push(fn) });
  const ac = new AbortController();
  const results = Array.from({ length: 5 }, (_, i) => n.watchSet().addKey('services', 'hot').wait(60_000, i === 3 ? ac.signal : undefined));
  n.changed('services', 'hot');
  assert.equal(n.wakeups, 2);
  assert.equal(deferred.length, 1);
  ac.abort();
  deferred.shift()!();
  assert.equal(n.wakeups, 4, 'the aborted waiter is skipped: the second batch is waiters 2 and 4');
  assert.equal(deferred.length, 0);
  assert.deepEqual(await Promise.all(results), [true, true, true, false, true]);
  assert.equal(n.blocked, 0);
});

test('waiters that arrive while a wave is being released wait for the next change, on every kind of interest', async () => {
  const deferred: (() => void)[] = [];
  const n = new Notifier(new ManualClock(), { batch: 1, defer: (fn) => deferred.push(fn) });
  const wait = (f: (ws: ReturnType<Notifier['watchSet']>) => unknown) => {
    const ws = n.watchSet();
    f(ws);
    return ws.wait(60_000);
  };
  const first = [wait((ws) => ws.addKey('kvs', 'a/b')), wait((ws) => ws.addPrefix('kvs', 'a/')), wait((ws) => ws.addTable('kvs'))];
  n.changed('kvs', 'a/b');
  assert.equal(n.wakeups, 1);
  // Arriving mid-release (a woken client asking again): not part of this wave.
  const later = [wait((ws) => ws.addKey('kvs', 'a/b')), wait((ws) => ws.addPrefix('kvs', 'a/')), wait((ws) => ws.addTable('kvs'))];
  while (deferred.length) deferred.shift()!();
  assert.deepEqual(await Promise.all(first), [true, true, true]);
  assert.equal(n.wakeups, 3);
  assert.equal(n.blocked, 3);
  n.changed('kvs', 'a/b');
  while (deferred.length) deferred.shift()!();
  assert.deepEqual(await Promise.all(later), [true, true, true]);
  assert.equal(n.blocked, 0);
});

test('a set that took another set\'s items keeps its own additions to itself', async () => {
  const { n } = notifier();
  const first = n.watchSet().addKey('kvs', 'a');
  const second = n.watchSet().include(first).addKey('kvs', 'b');
  const woken: string[] = [];
  void first.wait(60_000).then((w) => { if (w) woken.push('first'); });
  void second.wait(60_000).then((w) => { if (w) woken.push('second'); });
  n.changed('kvs', 'b');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(woken, ['second']);
  n.changed('kvs', 'a');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(woken, ['second', 'first']);
  assert.equal(n.blocked, 0);
});

test('notify() calls an object\'s woken() with true on a change and false on abort', () => {
  const { n } = notifier();
  const calls: boolean[] = [];
  const target = { woken: (w: boolean) => { calls.push(w); } };
  n.watchSet().addKey('kvs', 'x').notify(60_000, undefined, target);
  const ac = new AbortController();
  n.watchSet().addKey('kvs', 'y').notify(60_000, ac.signal, target);
  n.changed('kvs', 'x');
  ac.abort();
  assert.deepEqual(calls, [true, false]);
  assert.equal(n.blocked, 0);
  n.changed('kvs', 'y');
  assert.deepEqual(calls, [true, false]);
});

test('a woken wait does not keep its callback (nor what that holds) alive while its deadline entry waits to be dropped', async () => {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const { n } = notifier();
  // Another waiter with a later deadline keeps the heap (and the woken waiter's entry) around.
  n.watchSet().addKey('kvs', 'other').notify(600_000, undefined, () => {});
  let ref: WeakRef<object> | undefined;
  let calls = 0;
  (() => {
    const result = { big: new Array(1000).fill('x') };
    ref = new WeakRef(result);
    n.watchSet().addKey('kvs', 'k').notify(300_000, undefined, () => { calls += result.big.length > 0 ? 1 : 0; });
  })();
  n.changed('kvs', 'k');
  assert.equal(calls, 1);
  await new Promise((r) => setImmediate(r));
  gc();
  assert.equal(ref!.deref(), undefined, 'the woken waiter still holds its callback');
  assert.equal(n.blocked, 1);
});

test('a tenant\'s table leaves the notifier once no waiter is on it (woken, timed out or aborted); default tables stay', async () => {
  const { n, clock } = notifier();
  void n.watchSet().addKey('kvs', 'x').wait(1000);
  const base = n.tableCount;
  for (let i = 0; i < 50; i++) {
    const t = `kvs@default/ns-${i}`;
    const woken = n.watchSet().addKey(t, 'k').addPrefix(t, '').addTable(`config-entries@default/ns-${i}`).wait(60_000);
    void n.watchSet().addKey(t, 'other').wait(500);
    const ac = new AbortController();
    void n.watchSet().addTable(`sessions@default/ns-${i}`).wait(60_000, ac.signal);
    n.changed(t, 'k');
    assert.equal(await woken, true);
    ac.abort();
  }
  assert.ok(n.tableCount > base, 'the timed-out waits still hold their tables');
  clock.advance(500);
  assert.equal(n.tableCount, base);
  assert.equal(n.blocked, 1);
  // A tenant table dropped while its woken waiters are still queued (released in batches) is not an error.
  const batched = new Notifier(clock, { batch: 1, defer: (fn) => setImmediate(fn) });
  const waits = [0, 1, 2].map(() => batched.watchSet().addTable('kvs@ap1/x').wait(60_000));
  batched.changed('kvs@ap1/x', 'k');
  assert.deepEqual(await Promise.all(waits), [true, true, true]);
  assert.equal(batched.tableCount, 0);
});
