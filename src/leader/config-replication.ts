// Config entry replication (Consul's config_replication.go): a secondary datacenter's leader
// reads every config entry of the primary with blocking stale reads under the replication token,
// diffs them against its own by kind and name, and deletes then upserts the difference, paced,
// rounds rate limited, failures backed off. Exported services stay in the datacenter they are in.
import type { Clock, TimerHandle } from '../clock.ts';
import { formatGoDuration } from '../duration.ts';
import type { Logger } from '../log.ts';
import type { ConfigEntry } from '../state/index.ts';
import type { LeaderLoop } from './loops.ts';

/** An entry as replication compares it: its identity and the index it was last written at. */
export type ReplicatedEntry = Pick<ConfigEntry, 'Kind' | 'Name' | 'ModifyIndex'> & Record<string, unknown>;

/** Kinds a secondary never writes (Consul: exported services only apply to the primary datacenter). */
const LOCAL_ONLY_KINDS = new Set(['exported-services']);

/** An entry's namespace (replication covers the default partition's namespaces; absent: default). */
const namespaceOf = (e: ReplicatedEntry): string => (typeof e.Namespace === 'string' && e.Namespace ? e.Namespace : 'default');

/** Consul's configentry.Less: by kind, then namespace (one partition here), then name. */
function less(a: ReplicatedEntry, b: ReplicatedEntry): boolean {
  if (a.Kind !== b.Kind) return a.Kind < b.Kind;
  const na = namespaceOf(a);
  const nb = namespaceOf(b);
  return na !== nb ? na < nb : a.Name < b.Name;
}

const byId = (a: ReplicatedEntry, b: ReplicatedEntry): number => (less(a, b) ? -1 : less(b, a) ? 1 : 0);

/**
 * Consul's diffConfigEntries: local entries missing in the primary are deletions; primary entries
 * missing locally, or written in the primary after `lastRemoteIndex`, are updates.
 */
export function diffConfigEntries<E extends ReplicatedEntry>(local: E[], remote: E[], lastRemoteIndex: number): { deletions: E[]; updates: E[] } {
  const l = [...local].sort(byId);
  const r = [...remote].sort(byId);
  const deletions: E[] = [];
  const updates: E[] = [];
  let i = 0;
  let j = 0;
  while (i < l.length && j < r.length) {
    const order = byId(l[i], r[j]);
    if (order === 0) {
      if (r[j].ModifyIndex > lastRemoteIndex) updates.push(r[j]);
      i++;
      j++;
    } else if (order < 0) deletions.push(l[i++]);
    else updates.push(r[j++]);
  }
  deletions.push(...l.slice(i));
  updates.push(...r.slice(j));
  return { deletions, updates };
}

/** The primary's entries and the index they were read at (X-Consul-Index). */
export interface RemoteEntries {
  entries: ReplicatedEntry[];
  index: number;
}

/** What the replicator reads and writes. */
export interface ConfigReplicationDeps {
  clock: Clock;
  logger: Logger;
  random: () => number;
  /** A blocking stale read of every entry in the primary, newer than `minIndex`. */
  fetch(minIndex: number, signal: AbortSignal): Promise<RemoteEntries>;
  /** This datacenter's entries now. */
  local(): ReplicatedEntry[];
  /** Writes the primary's entry here as it is (no validation: the primary validated it). */
  upsert(entry: ReplicatedEntry): Promise<void>;
  /** Deletes an entry here. */
  remove(entry: ReplicatedEntry): Promise<void>;
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

/** Consul's blocking query wait, 5 minutes, with its jitter and RPC client timeout. */
const DEFAULT_FETCH_TIMEOUT_MS = 300_000 + 300_000 / 16 + 60_000;

/** How replication is doing (Consul's leader.replication.config-entries gauges). */
export interface ConfigReplicationStatus {
  running: boolean;
  /** The primary's index the last successful round brought this datacenter to. */
  replicatedIndex: number;
  lastSuccess: number;
  lastError: number;
  lastErrorMessage: string;
}

/** Left when the leadership that started the round ended. */
class Stopped extends Error {}

/** The secondary leader's config entry replication, a leader duty. */
export class ConfigReplicator implements LeaderLoop {
  readonly name = 'config-replication';
  readonly #d: ConfigReplicationDeps;
  readonly #log: Logger;
  #abort: AbortController | null = null;
  #run: Promise<void> = Promise.resolve();
  #status: ConfigReplicationStatus = { running: false, replicatedIndex: 0, lastSuccess: 0, lastError: 0, lastErrorMessage: '' };

  constructor(deps: ConfigReplicationDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ '@module': 'agent.leader.replication.config-entries' });
  }

  /** Starts the rounds in the background (a failing primary never fails the leader's start). */
  async start(): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    this.#status = { ...this.#status, running: true };
    this.#log.info('started config entry replication');
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
  status(): ConfigReplicationStatus {
    return { ...this.#status };
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const rate = this.#d.rate ?? 1;
    const burst = this.#d.burst ?? 5;
    let tokens = burst;
    let refilled = this.#d.clock.now();
    let failures = 0;
    let lastRemoteIndex = 0;
    while (!signal.aborted) {
      try {
        // Rounds are rate limited (a token bucket) so a primary changing fast costs the secondary little.
        const now = this.#d.clock.now();
        tokens = Math.min(burst, tokens + ((now - refilled) / 1000) * rate);
        refilled = now;
        if (tokens < 1) await this.#sleep(((1 - tokens) / rate) * 1000, signal);
        tokens -= 1;
        lastRemoteIndex = await this.#round(lastRemoteIndex, signal);
        failures = 0;
        this.#status = { ...this.#status, replicatedIndex: lastRemoteIndex, lastSuccess: this.#d.clock.now() };
      } catch (err) {
        if (signal.aborted || err instanceof Stopped) break;
        const message = err instanceof Error ? err.message : String(err);
        this.#status = { ...this.#status, lastError: this.#d.clock.now(), lastErrorMessage: message };
        this.#log.warn({ error: message }, 'Config Entry replication error (will retry if still leader)');
        try {
          await this.#sleep(this.#retryWait(failures++), signal);
        } catch {
          break;
        }
      }
    }
    this.#log.info('stopped config entry replication');
  }

  /** Consul's retry.Waiter: 1 s doubling per failure up to the maximum, with 10 % jitter. */
  #retryWait(failures: number): number {
    const max = this.#d.maxRetryWaitMs ?? 120_000;
    const base = Math.min(max, 1000 * 2 ** Math.min(failures, 30));
    return base - base * 0.1 * this.#d.random();
  }

  /** One round (Consul's replicateConfig); returns the primary's index it is in sync with. */
  async #round(lastRemoteIndex: number, signal: AbortSignal): Promise<number> {
    const remote = await this.#fetch(lastRemoteIndex, signal);
    if (signal.aborted) throw new Stopped();
    // A primary whose index went backwards was rebuilt: compare everything again.
    if (remote.index < lastRemoteIndex) {
      this.#log.warn({ from: lastRemoteIndex, to: remote.index }, 'Config Entry replication remote index moved backwards, forcing a full Config Entry sync');
      lastRemoteIndex = 0;
    }
    const { deletions, updates } = diffConfigEntries(this.#d.local(), remote.entries, lastRemoteIndex);
    this.#log.debug({ deletions: deletions.length, updates: updates.length }, 'Config Entry replication');
    const errors: string[] = [];
    await this.#reconcile(deletions, (e) => this.#d.remove(e), 'delete', errors, signal);
    await this.#reconcile(updates, (e) => this.#d.upsert(e), 'upsert', errors, signal);
    if (errors.length > 0) throw new Error(errors.join('; '));
    return remote.index;
  }

  /** One read of the primary, abandoned when leadership ends or it takes longer than fetchTimeoutMs. */
  async #fetch(minIndex: number, signal: AbortSignal): Promise<RemoteEntries> {
    const limitMs = this.#d.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    const read = new AbortController();
    const leave = (): void => read.abort();
    signal.addEventListener('abort', leave, { once: true });
    let timedOut = false;
    const timer = this.#d.clock.setTimer(limitMs, () => {
      timedOut = true;
      read.abort();
    });
    try {
      return await this.#d.fetch(minIndex, read.signal);
    } catch (err) {
      if (timedOut && !signal.aborted) throw new Error(`failed to retrieve remote config entries: no answer from the primary datacenter within ${formatGoDuration(limitMs)}`);
      throw err;
    } finally {
      timer.cancel();
      signal.removeEventListener('abort', leave);
    }
  }

  /** Applies one kind of change entry by entry at the apply limit, collecting failures (Consul's reconcileLocalConfig). */
  async #reconcile(entries: ReplicatedEntry[], op: (e: ReplicatedEntry) => Promise<void>, what: string, errors: string[], signal: AbortSignal): Promise<void> {
    const pace = 1000 / (this.#d.applyLimit ?? 100);
    for (let i = 0; i < entries.length; i++) {
      if (LOCAL_ONLY_KINDS.has(entries[i].Kind)) continue;
      try {
        await op(entries[i]);
      } catch (err) {
        errors.push(`Failed to apply config entry ${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (i < entries.length - 1) await this.#sleep(pace, signal);
    }
  }

  /** Waits on the clock; throws Stopped when leadership ends first. */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(new Stopped());
    return new Promise((resolve, reject) => {
      let timer: TimerHandle | null = null;
      const onAbort = (): void => {
        timer?.cancel();
        reject(new Stopped());
      };
      timer = this.#d.clock.setTimer(ms, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
