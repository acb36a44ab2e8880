// Namespace replication (Consul Enterprise's leader namespace replication): a secondary
// datacenter's leader reads the primary's namespaces of the default partition with blocking stale
// reads under the replication token, diffs them by name against its own and applies the
// difference: new and changed namespaces written as the primary has them, deletion marks
// (DeletedAt) copied so this datacenter's reaper purges the namespace's data, and namespaces the
// primary no longer has marked here. Paced, rounds rate limited, failures backed off, as the
// config entry replication beside it.
import type { Logger } from '../log.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName } from '../state/tenancy.ts';
import type { LeaderLoop } from './loops.ts';
import {
  DEFAULT_FETCH_TIMEOUT_MS, ReplicationLoop, Stopped, applyPaced, readWithin, type ReplicationDeps, type ReplicationStatus, type RoundResult,
} from './replication-loop.ts';

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

/**
 * What the replicator reads and writes: the primary's default-partition namespaces, this
 * datacenter's; `upsert` writes a deletion mark as it is, `remove` marks a namespace deleted (the
 * reaper then purges it).
 */
export interface NamespaceReplicationDeps extends ReplicationDeps<ReplicatedNamespace, RemoteNamespaces> {
  /**
   * A consistent (not stale) read of the same list, taken before namespaces are marked deleted here:
   * marking purges everything in them, and a stale list from a lagging server of the primary may
   * simply not have a namespace yet. Absent: the stale list decides.
   */
  confirm?(signal: AbortSignal): Promise<RemoteNamespaces>;
}

/** How replication is doing (the leader.replication.namespaces gauges). */
export type NamespaceReplicationStatus = ReplicationStatus;

/** The secondary leader's namespace replication, a leader duty. */
export class NamespaceReplicator implements LeaderLoop {
  readonly name = 'namespace-replication';
  readonly #d: NamespaceReplicationDeps;
  readonly #log: Logger;
  readonly #loop: ReplicationLoop;
  /** Folded names of local-only namespaces already warned about (once per name while this server leads). */
  #warnedLocal = new Set<string>();

  constructor(deps: NamespaceReplicationDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ '@module': 'agent.leader.replication.namespaces' });
    this.#loop = new ReplicationLoop({
      ...deps, log: this.#log,
      round: (signal, lastRemoteIndex, again) => this.#round(lastRemoteIndex, again, signal),
      messages: {
        started: 'started namespace replication',
        stopped: 'stopped namespace replication',
        error: 'Namespace replication error (will retry if still leader)',
      },
    });
  }

  /** Starts the rounds in the background (a failing primary never fails the leader's start). */
  async start(): Promise<void> {
    this.#warnedLocal.clear();
    this.#loop.start();
  }

  /** Stops the rounds; resolves when the current one has left. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /** The replication's state now. */
  status(): NamespaceReplicationStatus {
    return this.#loop.status();
  }

  /**
   * One round; returns the primary's index it is in sync with, and whether the next round must not
   * block (a namespace waits for this datacenter's reaper: the primary may not change meanwhile).
   */
  async #round(lastRemoteIndex: number, now: boolean, signal: AbortSignal): Promise<RoundResult> {
    const remote = await this.#read(signal, (s) => this.#d.fetch(now ? 0 : lastRemoteIndex, s));
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
    const pace = { clock: this.#d.clock, applyLimit: this.#d.applyLimit, noun: 'namespace' };
    await applyPaced(pace, deletions, (n) => this.#d.remove(n), 'delete', errors, signal);
    await applyPaced(pace, diff.updates, (n) => this.#d.upsert(n), 'upsert', errors, signal);
    if (errors.length > 0) throw new Error(errors.join('; '));
    return { remoteIndex: remote.index, again: diff.pending > 0 };
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
      const current = await this.#read(signal, (s) => confirm(s));
      if (signal.aborted) throw new Stopped();
      if (!complete(current)) return [];
      const there = new Set(current.namespaces.map(folded));
      gone = deletions.filter((n) => !there.has(folded(n)));
    }
    for (const n of gone) this.#log.info({ namespace: n.Name }, 'Namespace replication: marking a namespace the primary does not have deleted (its data is purged)');
    return gone;
  }

  /** One read of the primary, abandoned when leadership ends or it takes longer than fetchTimeoutMs. */
  #read(signal: AbortSignal, read: (signal: AbortSignal) => Promise<RemoteNamespaces>): Promise<RemoteNamespaces> {
    return readWithin(this.#d.clock, this.#d.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS, 'namespaces', signal, read);
  }
}
