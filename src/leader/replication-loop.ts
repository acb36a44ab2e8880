// The round loop a secondary leader's config entry and namespace replications share (Consul's
// Replicator): rounds rate limited by a token bucket, failures backed off with jitter, the primary's
// index carried from round to round, status for the replication gauges; plus the paced apply and
// the timed read of the primary both rounds use. ACL replication keeps its own per-type loop.
import type { Clock, TimerHandle } from '../clock.ts';
import { formatGoDuration } from '../duration.ts';
import type { Logger } from '../log.ts';

/** Consul's blocking query wait, 5 minutes, with its jitter and RPC client timeout. */
export const DEFAULT_FETCH_TIMEOUT_MS = 300_000 + 300_000 / 16 + 60_000;

/** What a replication is tuned and timed by (both replications' deps extend it). */
export interface ReplicationTuning {
  clock: Clock;
  logger: Logger;
  random: () => number;
  /** Replication rounds per second (Consul's ConfigReplicationRate, 1). */
  rate?: number;
  /** Rounds that may run back to back after idleness (ConfigReplicationBurst, 5). */
  burst?: number;
  /** Writes per second (ConfigReplicationApplyLimit, 100). */
  applyLimit?: number;
  /** Longest wait between failed rounds (replicationDefaultMaxRetryWait, 120 s). */
  maxRetryWaitMs?: number;
  /**
   * Longest a read of the primary may take before it is given up and retried, as Consul's RPC
   * timeout of a blocking query (its wait, wait / 16 of jitter, rpc_client_timeout 60 s): a primary
   * gone without closing the connection (a partition) would hold the round for hours otherwise.
   */
  fetchTimeoutMs?: number;
}

/** What a replicator reads and writes: the primary's list (`R`, with its index) and this datacenter's items (`T`). */
export interface ReplicationDeps<T, R> extends ReplicationTuning {
  /** A blocking stale read of the primary's list, newer than `minIndex`. */
  fetch(minIndex: number, signal: AbortSignal): Promise<R>;
  /** This datacenter's items now. */
  local(): T[];
  /** Writes the primary's item here as it is (no validation: the primary validated it). */
  upsert(item: T): Promise<void>;
  /** Deletes an item here. */
  remove(item: T): Promise<void>;
}

/** How a replication is doing (its leader.replication.* gauges). */
export interface ReplicationStatus {
  running: boolean;
  /** The primary's index the last successful round brought this datacenter to. */
  replicatedIndex: number;
  lastSuccess: number;
  lastError: number;
  lastErrorMessage: string;
}

/** What a round returns: the primary's index it is in sync with; `again`: the next round must not block. */
export interface RoundResult {
  remoteIndex: number;
  again?: boolean;
}

/** One replication round, given the index the last successful round reached and its `again`. */
export type Round = (signal: AbortSignal, lastRemoteIndex: number, again: boolean) => Promise<RoundResult>;

/** What the loop needs: the replication's tuning, its own logger, its round and log messages. */
export interface ReplicationLoopDeps extends Pick<ReplicationTuning, 'clock' | 'random' | 'rate' | 'burst' | 'maxRetryWaitMs'> {
  /** The replication's own logger (its @module child). */
  log: Logger;
  round: Round;
  /** Log messages: when started, when stopped, and the warning of a failed round. */
  messages: { started: string; stopped: string; error: string };
}

/** Left when the leadership that started the round ended. */
export class Stopped extends Error {}

/** Waits on the clock; rejects with Stopped when `signal` aborts first. */
export function sleepOn(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new Stopped());
  return new Promise((resolve, reject) => {
    let timer: TimerHandle | null = null;
    const onAbort = (): void => {
      timer?.cancel();
      reject(new Stopped());
    };
    timer = clock.setTimer(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One read of the primary, abandoned when `signal` aborts or it takes longer than `limitMs`
 * (a primary gone without closing the connection would hold the round for hours otherwise);
 * a timeout fails with `failed to retrieve remote <what>: no answer …`.
 */
export async function readWithin<T>(clock: Clock, limitMs: number, what: string, signal: AbortSignal, read: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const leave = (): void => ctl.abort();
  signal.addEventListener('abort', leave, { once: true });
  let timedOut = false;
  const timer = clock.setTimer(limitMs, () => {
    timedOut = true;
    ctl.abort();
  });
  try {
    return await read(ctl.signal);
  } catch (err) {
    if (timedOut && !signal.aborted) throw new Error(`failed to retrieve remote ${what}: no answer from the primary datacenter within ${formatGoDuration(limitMs)}`);
    throw err;
  } finally {
    timer.cancel();
    signal.removeEventListener('abort', leave);
  }
}

/** How `applyPaced` writes: the clock, writes per second (100), the noun of its errors, items it skips. */
export interface PaceOptions<T> {
  clock: Clock;
  applyLimit?: number;
  noun: string;
  skip?: (item: T) => boolean;
}

/**
 * Applies one kind of change item by item at the apply limit (Consul's reconcileLocalConfig),
 * collecting failures as `Failed to apply <noun> <what>: <message>`; a skipped item is not paced.
 */
export async function applyPaced<T>(
  o: PaceOptions<T>, items: T[], op: (item: T) => Promise<void>, what: string, errors: string[], signal: AbortSignal,
): Promise<void> {
  const pace = 1000 / (o.applyLimit ?? 100);
  for (let i = 0; i < items.length; i++) {
    if (o.skip?.(items[i])) continue;
    try {
      await op(items[i]);
    } catch (err) {
      errors.push(`Failed to apply ${o.noun} ${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (i < items.length - 1) await sleepOn(o.clock, pace, signal);
  }
}

/** Runs a replication's rounds while this server leads; start and stop are its LeaderLoop's. */
export class ReplicationLoop {
  readonly #d: ReplicationLoopDeps;
  #abort: AbortController | null = null;
  #run: Promise<void> = Promise.resolve();
  #status: ReplicationStatus = { running: false, replicatedIndex: 0, lastSuccess: 0, lastError: 0, lastErrorMessage: '' };

  constructor(deps: ReplicationLoopDeps) {
    this.#d = deps;
  }

  /** Starts the rounds in the background (a failing primary never fails the leader's start). */
  start(): void {
    const abort = new AbortController();
    this.#abort = abort;
    this.#status = { ...this.#status, running: true };
    this.#d.log.info(this.#d.messages.started);
    this.#run = this.#loop(abort.signal);
  }

  /** Stops the rounds; resolves when the current one has left. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    this.#abort = null;
    await this.#run;
    this.#status = { ...this.#status, running: false };
  }

  /** The replication's state now. */
  status(): ReplicationStatus {
    return { ...this.#status };
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const { clock, log } = this.#d;
    const rate = this.#d.rate ?? 1;
    const burst = this.#d.burst ?? 5;
    let tokens = burst;
    let refilled = clock.now();
    let failures = 0;
    let lastRemoteIndex = 0;
    let again = false;
    while (!signal.aborted) {
      try {
        // Rounds are rate limited (a token bucket) so a primary changing fast costs the secondary little.
        const now = clock.now();
        tokens = Math.min(burst, tokens + ((now - refilled) / 1000) * rate);
        refilled = now;
        if (tokens < 1) await sleepOn(clock, ((1 - tokens) / rate) * 1000, signal);
        tokens -= 1;
        const result = await this.#d.round(signal, lastRemoteIndex, again);
        ({ remoteIndex: lastRemoteIndex } = result);
        again = result.again ?? false;
        failures = 0;
        this.#status = { ...this.#status, replicatedIndex: lastRemoteIndex, lastSuccess: clock.now() };
      } catch (err) {
        if (signal.aborted || err instanceof Stopped) break;
        const message = err instanceof Error ? err.message : String(err);
        this.#status = { ...this.#status, lastError: clock.now(), lastErrorMessage: message };
        log.warn({ error: message }, this.#d.messages.error);
        try {
          await sleepOn(clock, this.#retryWait(failures++), signal);
        } catch {
          break;
        }
      }
    }
    log.info(this.#d.messages.stopped);
  }

  /** Consul's retry.Waiter: 1 s doubling per failure up to the maximum, with 10 % jitter. */
  #retryWait(failures: number): number {
    const max = this.#d.maxRetryWaitMs ?? 120_000;
    const base = Math.min(max, 1000 * 2 ** Math.min(failures, 30));
    return base - base * 0.1 * this.#d.random();
  }
}
