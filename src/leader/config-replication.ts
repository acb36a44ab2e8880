// Config entry replication (Consul's config_replication.go): a secondary datacenter's leader
// reads every config entry of the primary with blocking stale reads under the replication token,
// diffs them against its own by kind and name, and deletes then upserts the difference, paced,
// rounds rate limited, failures backed off. Exported services stay in the datacenter they are in.
import type { Logger } from '../log.ts';
import type { ConfigEntry } from '../state/index.ts';
import type { LeaderLoop } from './loops.ts';
import {
  DEFAULT_FETCH_TIMEOUT_MS, ReplicationLoop, Stopped, applyPaced, readWithin, type ReplicationDeps, type ReplicationStatus, type RoundResult,
} from './replication-loop.ts';

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

/** What the replicator reads and writes: every entry of the primary, this datacenter's entries. */
export type ConfigReplicationDeps = ReplicationDeps<ReplicatedEntry, RemoteEntries>;

/** How replication is doing (Consul's leader.replication.config-entries gauges). */
export type ConfigReplicationStatus = ReplicationStatus;

/** The secondary leader's config entry replication, a leader duty. */
export class ConfigReplicator implements LeaderLoop {
  readonly name = 'config-replication';
  readonly #d: ConfigReplicationDeps;
  readonly #log: Logger;
  readonly #loop: ReplicationLoop;

  constructor(deps: ConfigReplicationDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ '@module': 'agent.leader.replication.config-entries' });
    this.#loop = new ReplicationLoop({
      ...deps, log: this.#log,
      round: (signal, lastRemoteIndex) => this.#round(lastRemoteIndex, signal),
      messages: {
        started: 'started config entry replication',
        stopped: 'stopped config entry replication',
        error: 'Config Entry replication error (will retry if still leader)',
      },
    });
  }

  /** Starts the rounds in the background (a failing primary never fails the leader's start). */
  async start(): Promise<void> {
    this.#loop.start();
  }

  /** Stops the rounds; resolves when the current one has left. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /** The replication's state now. */
  status(): ConfigReplicationStatus {
    return this.#loop.status();
  }

  /** One round (Consul's replicateConfig); returns the primary's index it is in sync with. */
  async #round(lastRemoteIndex: number, signal: AbortSignal): Promise<RoundResult> {
    const limitMs = this.#d.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    const remote = await readWithin(this.#d.clock, limitMs, 'config entries', signal, (s) => this.#d.fetch(lastRemoteIndex, s));
    if (signal.aborted) throw new Stopped();
    // A primary whose index went backwards was rebuilt: compare everything again.
    if (remote.index < lastRemoteIndex) {
      this.#log.warn({ from: lastRemoteIndex, to: remote.index }, 'Config Entry replication remote index moved backwards, forcing a full Config Entry sync');
      lastRemoteIndex = 0;
    }
    const { deletions, updates } = diffConfigEntries(this.#d.local(), remote.entries, lastRemoteIndex);
    this.#log.debug({ deletions: deletions.length, updates: updates.length }, 'Config Entry replication');
    const errors: string[] = [];
    const pace = { clock: this.#d.clock, applyLimit: this.#d.applyLimit, noun: 'config entry', skip: (e: ReplicatedEntry) => LOCAL_ONLY_KINDS.has(e.Kind) };
    await applyPaced(pace, deletions, (e) => this.#d.remove(e), 'delete', errors, signal);
    await applyPaced(pace, updates, (e) => this.#d.upsert(e), 'upsert', errors, signal);
    if (errors.length > 0) throw new Error(errors.join('; '));
    return { remoteIndex: remote.index };
  }
}
