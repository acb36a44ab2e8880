// Snapshot save and restore (Consul's Snapshot RPC): the whole replicated state as a Consul-style
// archive, and an atomic restore that writes every record as new revisions (DESIGN §2), so
// indexes jump forward, blocked queries wake and CAS indexes taken before the restore fail.
import { InternalError, NoLeaderError, ProconsulError } from '../errors.ts';
import { readSnapshot, writeSnapshot, type KeyValue, type Store } from '../store/index.ts';
import type { SnapshotMeta } from '../snapshot/index.ts';
import type { EndpointDeps } from './deps.ts';
import type { QueryMeta } from './query.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { authorize } from './acl-enforce.ts';
import { SESSION_RENEW_PREFIX, TENANT_PREFIX, parseTenantKey } from '../state/index.ts';

// Keys that describe the live servers of *this* datacenter (election, server records, etcd
// membership, follower renew relays): never saved, and left to the election after a restore.
const SERVER_LOCAL_KEYS = new Set(['leader', 'autopilot/members', 'autopilot/join']);
const SERVER_LOCAL_PREFIXES = ['servers/', SESSION_RENEW_PREFIX];

/** Whether a Store key belongs to the running servers rather than to the restorable state. */
export function isServerLocalKey(key: string): boolean {
  if (SERVER_LOCAL_KEYS.has(key) || SERVER_LOCAL_PREFIXES.some((p) => key.startsWith(p))) return true;
  // A tenant's session renew relays (`t/<ap>/<ns>/sessionrenew/<id>`).
  return key.startsWith(TENANT_PREFIX) && parseTenantKey(key)?.inner.startsWith(SESSION_RENEW_PREFIX) === true;
}

/** What the snapshot endpoint needs from the leader side. */
export interface SnapshotHooks {
  /** Raft's term for meta.json (the election's). */
  term(): number;
  /** The voting servers for meta.json's Configuration. */
  servers(): { ID: string; Address: string }[];
  /** Milliseconds since the leader was last heard from. */
  lastContact(): number;
  /** Re-runs the leader duties over the restored state (Consul's reassertLeaderCh). */
  reassert(): Promise<void>;
}

/** A saved archive and the meta of the read it came from. */
export interface SavedSnapshot {
  archive: Buffer;
  meta: QueryMeta;
}

/** The archive format (tar, gzip, checksums), imported on the first save or restore: most agents never take one. */
const archiveFormat = () => import('../snapshot/index.ts');

/** Consul's Snapshot endpoint over the Store's snapshot/restore. */
export class SnapshotEndpoint {
  readonly #d: EndpointDeps;
  readonly #h: SnapshotHooks;

  constructor(deps: EndpointDeps, hooks: SnapshotHooks) {
    this.#d = deps;
    this.#h = hooks;
  }

  /** Takes a point-in-time archive of the whole state; needs acl:write (management). */
  async save(id: AclIdentity | undefined, opts: { stale: boolean }): Promise<SavedSnapshot> {
    authorize(id, 'snapshot');
    const { leadership, store, clock } = this.#d;
    if (!opts.stale && !leadership.knownLeader()) throw new NoLeaderError();
    const state = await stateOf(store);
    const term = this.#h.term();
    const now = clock.now();
    const meta: Omit<SnapshotMeta, 'Size'> = {
      Version: 1, ID: `${term}-${state.index}-${now}`, Index: state.index, Term: term, Peers: null,
      Configuration: { Servers: this.#h.servers().map((s) => ({ Suffrage: 0, ID: s.ID, Address: s.Address })) },
      ConfigurationIndex: state.index,
    };
    const archive = await (await archiveFormat()).writeArchive(meta, state.bytes, now);
    return {
      archive,
      meta: { index: state.index, knownLeader: leadership.knownLeader(), lastContact: this.#h.lastContact(), consistency: opts.stale ? 'stale' : 'leader' },
    };
  }

  /** Verifies an archive, then replaces the whole state with it in one Store revision; returns that revision. */
  async restore(id: AclIdentity | undefined, archive: Buffer): Promise<number> {
    authorize(id, 'snapshot');
    const { store, replica, logger } = this.#d;
    const { readArchive, SnapshotFormatError } = await archiveFormat();
    let data: Awaited<ReturnType<typeof readSnapshot>>;
    try {
      data = await readSnapshot(chunks((await readArchive(archive)).state));
    } catch (err) {
      if (err instanceof SnapshotFormatError || err instanceof ProconsulError) throw new InternalError(`failed to read snapshot: ${err.message}`, { cause: err });
      throw err;
    }
    const kvs = data.kvs.filter((kv) => !isServerLocalKey(kv.key));
    const revision = await store.restore(writeSnapshot(data.revision, kvs.map(asKeyValue), usedLeases(data.leases, kvs)));
    await replica.waitFor(revision);
    logger.info({ revision, keys: kvs.length, from: data.revision }, 'snapshot restored');
    await this.#h.reassert();
    return revision;
  }
}

/** The Store's snapshot without server-local keys, re-encoded as state.bin. */
async function stateOf(store: Store): Promise<{ index: number; bytes: Buffer }> {
  const data = await readSnapshot(store.snapshot());
  const kvs = data.kvs.filter((kv) => !isServerLocalKey(kv.key));
  const chunks: Buffer[] = [];
  for await (const c of writeSnapshot(data.revision, kvs.map(asKeyValue), usedLeases(data.leases, kvs))) chunks.push(Buffer.from(c));
  return { index: Math.max(1, data.revision), bytes: Buffer.concat(chunks) };
}

async function* chunks(b: Buffer): AsyncIterable<Uint8Array> {
  yield b;
}

function usedLeases<L extends { id: number }>(leases: L[], kvs: { lease: number }[]): L[] {
  const used = new Set(kvs.map((kv) => kv.lease));
  return leases.filter((l) => used.has(l.id));
}

// writeSnapshot reads key, value and lease only; revisions are assigned by the restore.
function asKeyValue(kv: { key: string; value: Uint8Array; lease: number }): KeyValue {
  return { ...kv, createRevision: 0, modRevision: 0, version: 0 };
}
