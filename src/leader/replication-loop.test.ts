import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { createLogger } from '../log.ts';
import { ReplicationLoop, Stopped, applyPaced, readWithin, type RoundResult } from './replication-loop.ts';

/** Lets pending promise reactions run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** A loop whose rounds the test answers one at a time, with its log lines. */
function harness(opts: { rate?: number; burst?: number; maxRetryWaitMs?: number; random?: number } = {}) {
  const clock = new ManualClock(1_000_000);
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', json: true, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const rounds: { at: number; last: number; again: boolean; signal: AbortSignal; answer: (r: RoundResult | Error) => void }[] = [];
  const loop = new ReplicationLoop({
    clock, log, random: () => opts.random ?? 0, rate: opts.rate, burst: opts.burst, maxRetryWaitMs: opts.maxRetryWaitMs,
    messages: { started: 'started x', stopped: 'stopped x', error: 'X replication error' },
    round: (signal, last, again) => new Promise((resolve, reject) => {
      rounds.push({ at: clock.now(), last, again, signal, answer: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    }),
  });
  const msgs = (): unknown[] => lines.map((l) => l['@message']);
  /** Stops the loop, letting the round in progress succeed. */
  const finish = async (): Promise<void> => {
    const stopping = loop.stop();
    rounds.at(-1)?.answer({ remoteIndex: 1 });
    await stopping;
  };
  return { clock, lines, msgs, rounds, loop, finish };
}

/** Answers `n` rounds in turn with success. */
async function succeed(h: ReturnType<typeof harness>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await settle();
    h.rounds.at(-1)!.answer({ remoteIndex: 10 + i });
  }
  await settle();
}

/** Advances the clock to 1 ms short of `ms`, checking no round starts, then to `ms`, checking one does. */
async function nextRoundAfter(h: ReturnType<typeof harness>, ms: number): Promise<void> {
  const n = h.rounds.length;
  h.clock.advance(ms - 1);
  await settle();
  assert.equal(h.rounds.length, n, `a round came before ${ms} ms`);
  h.clock.advance(1);
  await settle();
  assert.equal(h.rounds.length, n + 1, `no round at ${ms} ms`);
}

test('rounds are rate limited: a burst back to back, then one per 1/rate seconds', async () => {
  const h = harness({ rate: 2, burst: 3 });
  h.loop.start();
  await succeed(h, 3);
  // The burst is spent: the fourth round waits half a second (rate 2/s).
  assert.equal(h.rounds.length, 3);
  await nextRoundAfter(h, 500);
  assert.equal(h.rounds[3].last, 12);
  await succeed(h, 1);
  await nextRoundAfter(h, 500);
  await h.finish();
});

test('defaults: burst 5 then one round a second', async () => {
  const h = harness();
  h.loop.start();
  await succeed(h, 5);
  assert.equal(h.rounds.length, 5);
  await nextRoundAfter(h, 1000);
  await h.finish();
});

test('the index and again of the last successful round go to the next; status follows; a failure keeps them', async () => {
  const h = harness({ rate: 1000, burst: 100 });
  h.loop.start();
  assert.deepEqual(h.loop.status(), { running: true, replicatedIndex: 0, lastSuccess: 0, lastError: 0, lastErrorMessage: '' });
  await settle();
  assert.deepEqual([h.rounds[0].last, h.rounds[0].again], [0, false]);
  h.clock.advance(5);
  h.rounds[0].answer({ remoteIndex: 7, again: true });
  await settle();
  assert.deepEqual(h.loop.status(), { running: true, replicatedIndex: 7, lastSuccess: 1_000_005, lastError: 0, lastErrorMessage: '' });
  assert.deepEqual([h.rounds[1].last, h.rounds[1].again], [7, true]);
  h.rounds[1].answer(new Error('primary down'));
  await settle();
  assert.deepEqual(h.loop.status(), { running: true, replicatedIndex: 7, lastSuccess: 1_000_005, lastError: 1_000_005, lastErrorMessage: 'primary down' });
  h.clock.advance(1000);
  await settle();
  assert.deepEqual([h.rounds[2].last, h.rounds[2].again], [7, true]);
  h.rounds[2].answer({ remoteIndex: 9 });
  await settle();
  assert.deepEqual([h.rounds[3].last, h.rounds[3].again], [9, false]);
  const stopping = h.loop.stop();
  h.rounds[3].answer({ remoteIndex: 9 });
  await stopping;
  assert.deepEqual(h.loop.status(), { running: false, replicatedIndex: 9, lastSuccess: 1_001_005, lastError: 1_000_005, lastErrorMessage: 'primary down' });
  const warn = h.lines.find((l) => l['@message'] === 'X replication error');
  assert.equal(warn?.error, 'primary down');
  assert.equal(warn?.['@level'], 'warn');
  assert.deepEqual(h.msgs().filter((m) => m !== 'X replication error'), ['started x', 'stopped x']);
});

/** Fails the current round once per wait in `expected`, checking the retry comes exactly that long after. */
async function failAndWait(h: ReturnType<typeof harness>, expected: number[]): Promise<void> {
  for (const [i, wait] of expected.entries()) {
    await settle();
    h.rounds.at(-1)!.answer(new Error(`fail ${i}`));
    await settle();
    await nextRoundAfter(h, wait);
  }
}

test('failures back off 1 s doubling to the maximum; a success resets the wait', async () => {
  const h = harness({ rate: 1000, burst: 100, maxRetryWaitMs: 5000 });
  h.loop.start();
  await failAndWait(h, [1000, 2000, 4000, 5000]);
  h.rounds.at(-1)!.answer({ remoteIndex: 3 });
  await settle();
  await failAndWait(h, [1000, 2000]);
  await h.finish();
});

test('the backoff takes up to 10 % off for jitter; the default maximum is 120 s', async () => {
  const h = harness({ rate: 1000, burst: 100, random: 0.5 });
  h.loop.start();
  // 1000 * 2^7 = 128 s is past the 120 s maximum: 120 s less 5 %.
  await failAndWait(h, [950, 1900, 3800, 7600, 15_200, 30_400, 60_800, 114_000]);
  await h.finish();
});

test('stop aborts the round in progress and resolves only once it has left; no error is recorded', async () => {
  const h = harness();
  h.loop.start();
  await settle();
  const round = h.rounds[0];
  let stopped = false;
  const stopping = h.loop.stop().then(() => { stopped = true; });
  assert.equal(round.signal.aborted, true);
  await settle();
  assert.equal(stopped, false);
  assert.equal(h.loop.status().running, true);
  round.answer(new Error('aborted read'));
  await stopping;
  assert.equal(stopped, true);
  assert.deepEqual(h.loop.status(), { running: false, replicatedIndex: 0, lastSuccess: 0, lastError: 0, lastErrorMessage: '' });
  h.clock.advance(60_000);
  await settle();
  assert.equal(h.rounds.length, 1);
  assert.deepEqual(h.msgs(), ['started x', 'stopped x']);
});

test('a round that leaves with Stopped ends the loop without an error', async () => {
  const h = harness();
  h.loop.start();
  await settle();
  h.rounds[0].answer(new Stopped());
  await settle();
  assert.equal(h.loop.status().lastErrorMessage, '');
  assert.deepEqual(h.msgs(), ['started x', 'stopped x']);
  await h.loop.stop();
  assert.equal(h.rounds.length, 1);
});

test('stop during a backoff resolves at once; no round runs after it; start runs again from index 0', async () => {
  const h = harness();
  h.loop.start();
  await settle();
  h.rounds[0].answer({ remoteIndex: 4 });
  await settle();
  h.rounds[1].answer(new Error('down'));
  await settle();
  await h.loop.stop();
  h.clock.advance(600_000);
  await settle();
  assert.equal(h.rounds.length, 2);
  assert.equal(h.loop.status().running, false);
  h.loop.start();
  await settle();
  assert.equal(h.rounds.length, 3);
  assert.equal(h.rounds[2].last, 0);
  assert.equal(h.loop.status().replicatedIndex, 4);
  await h.finish();
});

test('stop during a rate limit wait resolves at once', async () => {
  const h = harness({ rate: 1, burst: 1 });
  h.loop.start();
  await settle();
  h.rounds[0].answer({ remoteIndex: 1 });
  await settle();
  await h.loop.stop();
  h.clock.advance(10_000);
  await settle();
  assert.equal(h.rounds.length, 1);
});

test('applyPaced: writes one a pace apart, skips what it is told to (unpaced), collects failures', async () => {
  const clock = new ManualClock();
  const done: string[] = [];
  const errors: string[] = [];
  const run = applyPaced({ clock, applyLimit: 10, noun: 'thing', skip: (x: string) => x === 'skip' }, ['a', 'skip', 'b', 'c'], async (x) => {
    done.push(x);
    if (x === 'b') throw new Error('no b');
  }, 'upsert', errors, new AbortController().signal);
  await settle();
  assert.deepEqual(done, ['a']);
  clock.advance(99);
  await settle();
  assert.deepEqual(done, ['a']);
  clock.advance(1);
  await settle();
  assert.deepEqual(done, ['a', 'b']);
  clock.advance(100);
  await run;
  assert.deepEqual(done, ['a', 'b', 'c']);
  assert.deepEqual(errors, ['Failed to apply thing upsert: no b']);
});

test('applyPaced: an abort between writes leaves with Stopped', async () => {
  const clock = new ManualClock();
  const abort = new AbortController();
  const run = applyPaced({ clock, noun: 'thing' }, ['a', 'b'], async () => {}, 'delete', [], abort.signal);
  await settle();
  abort.abort();
  await assert.rejects(run, Stopped);
});

test('readWithin: a read past its limit is aborted and fails naming what was read; an abort is passed on as is', async () => {
  const clock = new ManualClock();
  const hang = (s: AbortSignal): Promise<number> => new Promise((_, reject) => s.addEventListener('abort', () => reject(new Error('aborted'))));
  const slow = readWithin(clock, 90_000, 'widgets', new AbortController().signal, hang);
  clock.advance(90_000);
  await assert.rejects(slow, { message: 'failed to retrieve remote widgets: no answer from the primary datacenter within 1m30s' });
  const abort = new AbortController();
  const left = readWithin(clock, 90_000, 'widgets', abort.signal, hang);
  abort.abort();
  await assert.rejects(left, { message: 'aborted' });
  assert.equal(await readWithin(clock, 1000, 'widgets', new AbortController().signal, async () => 7), 7);
});
