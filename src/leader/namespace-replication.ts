// Namespace replication (Consul Enterprise's leader namespace replication): a secondary
// datacenter's leader reads the primary's namespaces of the default partition with blocking stale
// reads under the replication token, diffs them by name against its own and applies the
// difference: new and changed namespaces written as the primary has them, deletion marks
// (DeletedAt) copied so this datacenter's reaper purges the namespace's data, and namespaces the
// primary no longer has marked here. Paced, rounds rate limited, failures backed off, as the
// config entry replication beside it.
import type { Clock, TimerHandle } from '../clock.ts';
import { formatGoDuration } from '../duration.ts';
import type { Logger } from '../log.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName } from '../state/tenancy.ts';
import type { LeaderLoop } from './loops.ts';

/** A namespace as replication compares it (the API's shape: name, index, deletion mark, the rest). */
export interface ReplicatedNamespace {
  Name: string;
  ModifyIndex: number;
  DeletedAt?: string;
  /** A local namespace that came from the primary (only such a one is deleted when the primary no longer has it). */
  Replicated?: boolean;
  [field: string]: unknown;
}

const folded = (n: ReplicatedNamespace): string => foldTenancyName(n.Name);
const byName = (a: ReplicatedNamespace, b: ReplicatedNamespace): number => (folded(a) < folded(b) ? -1 : folded(a) > folded(b) ? 1 : 0);

/**
 * The changes that bring `local` to the primary's `remote`: namespaces only in the primary, or
 * written there after `lastRemoteIndex`, are updates (a deletion mark included: it is written here
 * so the reaper purges); namespaces only here that came from the primary are deletions (to be
 * marked). A namespace only here that never came from the primary (made in this datacenter before
 * its namespace writes went to the primary) is `localOnly`: deleting it would purge data the
 * primary never had. A namespace the primary marks that is gone here (purged already), or marked
 * on both sides, needs nothing; `default` is never deleted. `pending` counts namespaces the
 * primary has (again) that are still marked here: they are written in a later round, once this
 * datacenter's reaper has purged the old one.
 */
export function diffNamespaces<N extends ReplicatedNamespace>(
  local: N[], remote: N[], lastRemoteIndex: number,
): { deletions: N[]; updates: N[]; pending: number; localOnly: N[] } {
  const l = [...local].sort(byName);
  const r = [...remote].sort(byName);
  const deletions: N[] = [];
  const updates: N[] = [];
  const localOnly: N[] = [];
  let pending = 0;
  const remove = (n: N): void => {
    if (n.DeletedAt || folded(n) === DEFAULT_TENANCY_NAME) return;
    (n.Replicated ? deletions : localOnly).push(n);
  };
  const add = (n: N): void => {
    if (!n.DeletedAt) updates.push(n);
  };
  let i = 0;
  let j = 0;
  while (i < l.length && j < r.length) {
    const order = byName(l[i], r[j]);
    if (order === 0) {
      const here = l[i];
      const there = r[j];
      // A mark here is final (the reaper may be purging): only the primary's own mark is copied onto an unmarked one.
      if (!here.DeletedAt && (there.ModifyIndex > lastRemoteIndex || there.DeletedAt)) updates.push(there);
      // Made again in the primary while the old one is still being purged here: written once the purge is done.
      else if (here.DeletedAt && !there.DeletedAt) pending++;
      i++;
      j++;
    } else if (order < 0) remove(l[i++]);
    else add(r[j++]);
  }
  l.slice(i).forEach(remove);
  r.slice(j).forEach(add);
  return { deletions, updates, pending, localOnly };
}

/** The primary's namespaces and the index they were read at (X-Consul-Index). */
export interface RemoteNamespaces {
  namespaces: ReplicatedNamespace[];
  index: number;
  /** The primary left some out (X-Consul-Results-Filtered-By-ACLs): the round deletes nothing. */
  filtered?: boolean;
}

/** What the replicator reads and writes. */
export interface NamespaceReplicationDeps {
  clock: Clock;
  logger: Logger;
  random: () => number;
  /** A blocking stale read of the primary's default-partition namespaces, newer than `minIndex`. */
  fetch(minIndex: number, signal: AbortSignal): Promise<RemoteNamespaces>;
  /**
   * A consistent (not stale) read of the same list, taken before namespaces are marked deleted here:
   * marking purges everything in them, and a stale list from a lagging server of the primary may
   * simply not have a namespace yet. Absent: the stale list decides.
   */
  confirm?(signal: AbortSignal): Promise<RemoteNamespaces>;
  /** This datacenter's namespaces of the default partition now. */
  local(): ReplicatedNamespace[];
  /** Writes the primary's namespace here as it is (its deletion mark included). */
  upsert(ns: ReplicatedNamespace): Promise<void>;
  /** Marks a namespace here deleted (the reaper then purges it). */
  remove(ns: ReplicatedNamespace): Promise<void>;
  /** Rounds per second (1, as config entry replication). */
  rate?: number;
  /** Rounds that may run back to back after idleness (5). */
  burst?: number;
  /** Writes per second (100). */
  applyLimit?: number;
  /** Longest wait between failed rounds (120 s). */
  maxRetryWaitMs?: number;
  /** Longest a read of the primary may take before it is given up and retried. */
  fetchTimeoutMs?: number;
}

/** Consul's blocking query wait, 5 minutes, with its jitter and RPC client timeout. */
const DEFAULT_FETCH_TIMEOUT_MS = 300_000 + 300_000 / 16 + 60_000;

/** How replication is doing (the leader.replication.namespaces gauges). */
export interface NamespaceReplicationStatus {
  running: boolean;
  /** The primary's index the last successful round brought this datacenter to. */
  replicatedIndex: number;
  lastSuccess: number;
  lastError: number;
  lastErrorMessage: string;
}

/** Left when the leadership that started the round ended. */
class Stopped extends Error {}

/** The secondary leader's namespace replication, a leader duty. */
export class NamespaceReplicator implements LeaderLoop {
  readonly name = 'namespace-replication';
  readonly #d: NamespaceReplicationDeps;
  readonly #log: Logger;
  #abort: AbortController | null = null;
  /** Folded names of local-only namespaces already warned about (once per name while this server leads). */
  #warnedLocal = new Set<string>();
  #run: Promise<void> = Promise.resolve();
  #status: NamespaceReplicationStatus = { running: false, replicatedIndex: 0, lastSuccess: 0, lastError: 0, lastErrorMessage: '' };

  constructor(deps: NamespaceReplicationDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ '@module': 'agent.leader.replication.namespaces' });
  }

  /** Starts the rounds in the background (a failing primary never fails the leader's start). */
  async start(): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    this.#warnedLocal.clear();
    this.#status = { ...this.#status, running: true };
    this.#log.info('started namespace replication');
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
  status(): NamespaceReplicationStatus {
    return { ...this.#status };
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const rate = this.#d.rate ?? 1;
    const burst = this.#d.burst ?? 5;
    let tokens = burst;
    let refilled = this.#d.clock.now();
    let failures = 0;
    let lastRemoteIndex = 0;
    let again = false;
    while (!signal.aborted) {
      try {
        const now = this.#d.clock.now();
        tokens = Math.min(burst, tokens + ((now - refilled) / 1000) * rate);
        refilled = now;
        if (tokens < 1) await this.#sleep(((1 - tokens) / rate) * 1000, signal);
        tokens -= 1;
        ({ index: lastRemoteIndex, again } = await this.#round(lastRemoteIndex, again, signal));
        failures = 0;
        this.#status = { ...this.#status, replicatedIndex: lastRemoteIndex, lastSuccess: this.#d.clock.now() };
      } catch (err) {
        if (signal.aborted || err instanceof Stopped) break;
        const message = err instanceof Error ? err.message : String(err);
        this.#status = { ...this.#status, lastError: this.#d.clock.now(), lastErrorMessage: message };
        this.#log.warn({ error: message }, 'Namespace replication error (will retry if still leader)');
        try {
          await this.#sleep(this.#retryWait(failures++), signal);
        } catch {
          break;
        }
      }
    }
    this.#log.info('stopped namespace replication');
  }

  /** 1 s doubling per failure up to the maximum, with 10 % jitter. */
  #retryWait(failures: number): number {
    const max = this.#d.maxRetryWaitMs ?? 120_000;
    const base = Math.min(max, 1000 * 2 ** Math.min(failures, 30));
    return base - base * 0.1 * this.#d.random();
  }

  /**
   * One round; returns the primary's index it is in sync with, and whether the next round must not
   * block (a namespace waits for this datacenter's reaper: the primary may not change meanwhile).
   */
  async #round(lastRemoteIndex: number, now: boolean, signal: AbortSignal): Promise<{ index: number; again: boolean }> {
    const remote = await this.#fetch(now ? 0 : lastRemoteIndex, signal);
    if (signal.aborted) throw new Stopped();
    if (remote.index < lastRemoteIndex) {
      this.#log.warn({ from: lastRemoteIndex, to: remote.index }, 'Namespace replication remote index moved backwards, forcing a full namespace sync');
      lastRemoteIndex = 0;
    }
    const diff = diffNamespaces(this.#d.local(), remote.namespaces, lastRemoteIndex);
    for (const n of diff.localOnly) {
      if (this.#warnedLocal.has(folded(n))) continue;
      this.#warnedLocal.add(folded(n));
      this.#log.warn({ namespace: n.Name },
        'Namespace replication: a namespace of this datacenter that the primary datacenter does not have is kept (made here before namespace writes went to the primary); create it in the primary to have it replicated, then delete it there to remove it');
    }
    const deletions = diff.deletions.length > 0 ? await this.#confirmDeletions(remote, diff.deletions, signal) : [];
    this.#log.debug({ deletions: deletions.length, updates: diff.updates.length }, 'Namespace replication');
    const errors: string[] = [];
    await this.#reconcile(deletions, (n) => this.#d.remove(n), 'delete', errors, signal);
    await this.#reconcile(diff.updates, (n) => this.#d.upsert(n), 'upsert', errors, signal);
    if (errors.length > 0) throw new Error(errors.join('; '));
    return { index: remote.index, again: diff.pending > 0 };
  }

  /**
   * The deletions a list of the primary may be trusted with: none when it is incomplete (filtered by
   * ACLs, or without the builtin `default` every primary lists), else those the primary's consistent
   * list confirms gone too (a namespace still there, marked or not, is left to a later round).
   */
  async #confirmDeletions(remote: RemoteNamespaces, deletions: ReplicatedNamespace[], signal: AbortSignal): Promise<ReplicatedNamespace[]> {
    const complete = (r: RemoteNamespaces): boolean => {
      // Namespaces the replication token may not see are not gone: never delete on a filtered list.
      if (r.filtered) {
        this.#log.warn({ skipped: deletions.length }, 'Namespace replication: the replication token cannot read every namespace of the primary; deletions skipped');
        return false;
      }
      if (!r.namespaces.some((n) => folded(n) === DEFAULT_TENANCY_NAME)) {
        this.#log.warn({ skipped: deletions.length }, 'Namespace replication: the primary listed no default namespace; deletions skipped');
        return false;
      }
      return true;
    };
    if (!complete(remote)) return [];
    let gone = deletions;
    const confirm = this.#d.confirm;
    if (confirm) {
      const current = await this.#fetch(0, signal, (_, s) => confirm(s));
      if (signal.aborted) throw new Stopped();
      if (!complete(current)) return [];
      const there = new Set(current.namespaces.map(folded));
      gone = deletions.filter((n) => !there.has(folded(n)));
    }
    for (const n of gone) this.#log.info({ namespace: n.Name }, 'Namespace replication: marking a namespace the primary does not have deleted (its data is purged)');
    return gone;
  }

  /** One read of the primary, abandoned when leadership ends or it takes longer than fetchTimeoutMs. */
  async #fetch(
    minIndex: number, signal: AbortSignal, read: (minIndex: number, signal: AbortSignal) => Promise<RemoteNamespaces> = (i, s) => this.#d.fetch(i, s),
  ): Promise<RemoteNamespaces> {
    const limitMs = this.#d.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    const ctl = new AbortController();
    const leave = (): void => ctl.abort();
    signal.addEventListener('abort', leave, { once: true });
    let timedOut = false;
    const timer = this.#d.clock.setTimer(limitMs, () => {
      timedOut = true;
      ctl.abort();
    });
    try {
      return await read(minIndex, ctl.signal);
    } catch (err) {
      if (timedOut && !signal.aborted) throw new Error(`failed to retrieve remote namespaces: no answer from the primary datacenter within ${formatGoDuration(limitMs)}`);
      throw err;
    } finally {
      timer.cancel();
      signal.removeEventListener('abort', leave);
    }
  }

  /** Applies one kind of change namespace by namespace at the apply limit, collecting failures. */
  async #reconcile(
    list: ReplicatedNamespace[], op: (n: ReplicatedNamespace) => Promise<void>, what: string, errors: string[], signal: AbortSignal,
  ): Promise<void> {
    const pace = 1000 / (this.#d.applyLimit ?? 100);
    for (let i = 0; i < list.length; i++) {
      try {
        await op(list[i]);
      } catch (err) {
        errors.push(`Failed to apply namespace ${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (i < list.length - 1) await this.#sleep(pace, signal);
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
