// Consul's performance.rpc_hold_timeout for the etcd backend: a request etcd could not take
// because it had no leader (members still joining, an election after a leader died) is sent again
// after a jittered pause, for up to the hold, instead of failing at once (Consul's canRetry and
// forward). When the hold runs out the caller gets Consul's 500 `No cluster leader`.
import { systemClock, type Clock } from '../../clock.ts';
import { NoLeaderError } from '../../errors.ts';

/** Consul's structs.JitterFraction: each pause is a random part of the hold divided by it. */
export const JITTER_FRACTION = 16;

/** Consul's default performance.rpc_hold_timeout, ms. */
export const DEFAULT_HOLD_MS = 7_000;

/** How long and on what clock requests are held. */
export interface HoldOptions {
  clock?: Clock;
  /** performance.rpc_hold_timeout in ms (default 7 s). */
  holdMs?: number;
  /** Uniform [0,1) source for the pauses (default Math.random). */
  random?: () => number;
  /** Aborted when the store closes: a pause in progress ends at once (its timer cancelled) and the last failure is thrown. */
  signal?: AbortSignal;
}

/**
 * Runs `call`; while it fails with an error `canRetry` accepts and the hold (counted from the
 * first attempt) has not run out, pauses a random time below holdMs / JITTER_FRACTION and runs it
 * again. A retryable failure past the hold becomes NoLeaderError (its cause the last failure);
 * any other failure is thrown as it is, and so is the last one once `o.signal` is aborted.
 * `canRetry` decides what is safe to send again.
 */
export async function holdWhileNoLeader<T>(o: HoldOptions, call: () => Promise<T>, canRetry: (err: unknown) => boolean): Promise<T> {
  const clock = o.clock ?? systemClock;
  const holdMs = o.holdMs ?? DEFAULT_HOLD_MS;
  const random = o.random ?? Math.random;
  const start = clock.now();
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!canRetry(err) || o.signal?.aborted) throw err;
      if (clock.now() - start >= holdMs) throw new NoLeaderError({ cause: err });
      await pauseFor(clock, random() * (holdMs / JITTER_FRACTION), o.signal);
      if (o.signal?.aborted) throw err;
    }
  }
}

/** Resolves after `ms` on `clock`, or at once (the timer cancelled) when `signal` is aborted. */
function pauseFor(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    const timer = clock.setTimer(ms, done);
    const stop = () => {
      timer.cancel();
      done();
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
