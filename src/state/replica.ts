// The Replica: in-memory tables fed by the Store's ordered watch. It lists the keyspace once,
// then applies every batch in revision order, bumps table indexes, wakes the blocking queries
// whose table/key/prefix changed, and lets writers wait until their revision is applied.
import type { Store, Watch, WatchBatch, WatchEvent } from '../store/index.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import { ProconsulError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { Notifier } from './notify.ts';
import { KvsTable, KV_PREFIX, KVS_TABLE } from './kvs.ts';
import { RecordTable } from './records.ts';
import { SessionsTable, SESSION_PREFIX, SESSION_LOCKS_PREFIX, sessionTenantAppliers } from './sessions.ts';
import { LockDelays } from './lock-delay.ts';
import { CatalogTables, CATALOG_PREFIX, type Changes } from './catalog.ts';
import { catalogTenantApplier } from './catalog-tenants.ts';
import { AclTables, ACL_PREFIX, aclTenantApplier } from './acl-tables.ts';
import { peeringTenantApplier } from './peerings-tenants.ts';
import { ConfigEntriesTable, CONFIG_PREFIX, CONFIG_ENTRIES_TABLE } from './config-entries.ts';
import { CoordinatesTable, COORDINATE_PREFIX } from './coordinates.ts';
import { PreparedQueriesTable } from './prepared-queries.ts';
import { PeeringsTable, PeeringStatusTable, PeerImportsTable, type PeeringSecrets } from './peerings.ts';
import type { CAConfigRecord, CARootRecord, ClusterMeta } from './tables.ts';
import { TenantTables } from './tenancy-tables.ts';
import { TENANT_PREFIX, parseTenantKey } from './tenancy.ts';
import { kvsOf, lockDelayKey } from './kvs-tenants.ts';
import { TENANT_APPLIERS } from './tenant-appliers.ts';
import { wildcardNamespaceApplier } from './config-entries-tenants.ts';
import { VirtualIPsTable, VIP_PREFIX, VIRTUAL_IPS_TABLE } from './virtual-ips.ts';

/** Dependencies of the replica. */
/** Waits between listings of a store that cannot answer (no leader, unreachable). */
const LIST_RETRY_MIN_MS = 250;
const LIST_RETRY_MAX_MS = 2_000;

export interface ReplicaDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
}

interface Applier {
  prefix: string;
  /** Applies an event; appends the notifier keys it changed to `out` as (table, key) pairs. */
  apply(ev: WatchEvent, out: Changes): void;
  reset(): void;
}

/** The in-memory state every read is served from. */
export class Replica {
  readonly kvs = new KvsTable();
  readonly caRoots = new RecordTable<CARootRecord>('ca-roots', 'ca/root/');
  /** The Connect CA configuration (one record, `ca/config/current`). */
  readonly caConfig = new RecordTable<CAConfigRecord>('ca-config', 'ca/config/');
  readonly meta = new RecordTable<ClusterMeta>('meta', 'meta/');
  readonly sessions = new SessionsTable();
  /** Per-session lock guards (`sessionlocks/<id>`, a tenant's under its prefix), bumped by every acquire. */
  readonly sessionLocks = new RecordTable<object>('session-locks', SESSION_LOCKS_PREFIX);
  readonly lockDelays = new LockDelays();
  readonly catalog = new CatalogTables();
  /** ACL tokens, policies, roles, auth methods, binding rules and the bootstrap record. */
  readonly acl = new AclTables();
  /** Config entries by kind and name (`config/<kind>/<name>`). */
  readonly configEntries = new ConfigEntriesTable();
  /** LAN network coordinates by node and segment (`coordinate/<node>/<segment>`). */
  readonly coordinates = new CoordinatesTable();
  /** Prepared queries by id (`query/<id>`). */
  readonly preparedQueries = new PreparedQueriesTable();
  /** The prepared query name guard (`querylock/names`), rewritten by every query create and update. */
  readonly queryGuard = new RecordTable<object>('prepared-query-guard', 'querylock/');
  /** Cluster peerings by ID (`peering/<id>`). */
  readonly peerings = new PeeringsTable();
  /** Peering secrets by peering ID (`peeringsecret/<id>`); never answered to clients. */
  readonly peeringSecrets = new RecordTable<PeeringSecrets>('peering-secrets', 'peeringsecret/');
  /** Peering stream status as the servers holding the streams published it (`peeringstatus/<id>/<node>`). */
  readonly peeringStatus = new PeeringStatusTable();
  /** Services imported from peers (`peerimport/<peer>/<service>`). */
  readonly peerImports = new PeerImportsTable();
  /** Service virtual IPs, freed IPs and their counter (`vip/…`). */
  readonly virtualIPs = new VirtualIPsTable();
  /** Partition and namespace records, and the tables of every non-default tenant (`t/<ap>/<ns>/…`). */
  readonly tenants = new TenantTables();
  readonly notifier: Notifier;
  #deps: ReplicaDeps;
  #appliers: Applier[];
  #applied = 0;
  #revWaiters: { revision: number; resolve: () => void }[] = [];
  #watch: Watch | null = null;
  #lastContact: number;
  #stopped = false;
  /** The wait before the next listing attempt, if one is pending: stop() ends it. */
  #retry: { timer: TimerHandle; wake: () => void } | null = null;

  constructor(deps: ReplicaDeps) {
    this.#deps = deps;
    this.notifier = new Notifier(deps.clock);
    this.#lastContact = deps.clock.now();
    const kvs = this.kvs;
    this.#appliers = [
      { prefix: KV_PREFIX, apply: (ev, out) => void out.push(KVS_TABLE, kvs.apply(ev)), reset: () => kvs.reset() },
      { prefix: CATALOG_PREFIX, apply: (ev, out) => this.catalog.applyInto(ev, out), reset: () => this.catalog.reset() },
      { prefix: ACL_PREFIX, apply: (ev, out) => pairs(this.acl.apply(ev), out), reset: () => this.acl.reset() },
      { prefix: CONFIG_PREFIX, apply: (ev, out) => void out.push(CONFIG_ENTRIES_TABLE, this.configEntries.apply(ev)), reset: () => this.configEntries.reset() },
      { prefix: COORDINATE_PREFIX, apply: (ev, out) => pairs(this.coordinates.apply(ev), out), reset: () => this.coordinates.reset() },
      { prefix: VIP_PREFIX, apply: (ev, out) => void out.push(VIRTUAL_IPS_TABLE, this.virtualIPs.apply(ev)), reset: () => this.virtualIPs.reset() },
      tableApplier(this.caRoots),
      tableApplier(this.caConfig),
      tableApplier(this.meta),
      tableApplier(this.sessions),
      tableApplier(this.sessionLocks),
      tableApplier(this.preparedQueries),
      tableApplier(this.queryGuard),
      tableApplier(this.peerings),
      tableApplier(this.peeringSecrets),
      tableApplier(this.peeringStatus),
      tableApplier(this.peerImports),
      // Last: no default-tenant event is tested against them.
      tableApplier(this.tenants.partitions),
      tableApplier(this.tenants.namespaces),
      { prefix: TENANT_PREFIX, apply: (ev, out) => this.tenants.apply(ev, out), reset: () => this.tenants.reset() },
      wildcardNamespaceApplier(this.tenants),
    ];
    for (const make of TENANT_APPLIERS) this.tenants.register(make(this.tenants));
    // Shared tables (ids unique across tenants): the tenants' sessions join the replica's own.
    for (const h of sessionTenantAppliers(this.sessions, this.sessionLocks)) this.tenants.register(h);
    // Namespaces' services share their partition's nodes: the default partition's are this.catalog.
    this.tenants.register(catalogTenantApplier(this.tenants, this.catalog));
    this.tenants.register(aclTenantApplier(this.acl));
    this.tenants.register(peeringTenantApplier(this.peerings));
  }

  /** Revision of the last batch applied to the tables. */
  get appliedRevision(): number {
    return this.#applied;
  }

  /** Wall-clock ms of the last batch or sync from the store (for X-Consul-LastContact). */
  get lastContact(): number {
    return this.#lastContact;
  }

  /** Loads the whole keyspace and follows the store's watch from there. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#listUntilAnswered();
  }

  /** Stops following the store and releases blocked waiters of revisions. */
  stop(): void {
    this.#stopped = true;
    this.#retry?.timer.cancel();
    this.#retry?.wake();
    this.#watch?.cancel();
    this.#watch = null;
    for (const w of this.#revWaiters) w.resolve();
    this.#revWaiters = [];
  }

  /**
   * Lists the store, again after a pause while it answers `unavailable` or `no_leader` (etcd
   * electing or out of reach beyond the RPC hold): a server starts without a store leader, as a
   * Consul server starts without a Raft leader, instead of exiting. Other failures, and the last
   * one once stop() was called, are thrown.
   */
  async #listUntilAnswered(): Promise<void> {
    const { clock, logger } = this.#deps;
    for (let wait = LIST_RETRY_MIN_MS; ; wait = Math.min(wait * 2, LIST_RETRY_MAX_MS)) {
      try {
        await this.#relist();
        return;
      } catch (err) {
        const waitable = err instanceof ProconsulError && (err.code === 'unavailable' || err.code === 'no_leader');
        if (!waitable || this.#stopped) throw err;
        logger.warn({ err, retryInMs: wait }, 'the store is not answering; listing it again');
        await new Promise<void>((wake) => { this.#retry = { timer: clock.setTimer(wait, wake), wake }; });
        this.#retry = null;
        if (this.#stopped) throw err;
      }
    }
  }

  async #relist(): Promise<void> {
    this.#watch?.cancel();
    const { kvs, revision } = await this.#deps.store.range('');
    for (const a of this.#appliers) a.reset();
    const ignored: Changes = [];
    for (const kv of kvs) {
      this.#applyEvent({ type: 'put', kv }, ignored);
      ignored.length = 0;
    }
    this.#applied = revision;
    this.#lastContact = this.#deps.clock.now();
    this.notifier.changedAll();
    this.#releaseRevWaiters();
    this.#watch = this.#deps.store.watch(revision, {
      onBatch: (b) => this.#applyBatch(b),
      onCompacted: () => {
        this.#deps.logger.warn({ revision: this.#applied }, 'replica watch compacted; re-listing');
        this.#listUntilAnswered().catch((err) => this.#deps.logger.error({ err }, 'replica re-list failed'));
      },
      onError: (err) => this.#deps.logger.error({ err }, 'replica watch failed'),
    });
  }

  /** Applies an event to its table; appends the notifier keys it changed to `out` (none if it failed midway). */
  #applyEvent(ev: WatchEvent, out: Changes): void {
    for (const a of this.#appliers) {
      if (!ev.kv.key.startsWith(a.prefix)) continue;
      const before = out.length;
      try {
        a.apply(ev, out);
      } catch (err) {
        out.length = before;
        this.#deps.logger.error({ err, key: ev.kv.key }, 'undecodable record skipped');
      }
      return;
    }
  }


  #applyBatch(batch: WatchBatch): void {
    if (batch.revision <= this.#applied) return;
    const changed: Changes = [];
    const invalidated = this.#invalidatedSessions(batch);
    for (const ev of batch.events) {
      if (invalidated.size) this.#startLockDelay(ev, invalidated);
      this.#applyEvent(ev, changed);
    }
    this.#applied = batch.revision;
    this.#lastContact = this.#deps.clock.now();
    // Writers waiting for this revision go first, so a write is acknowledged before the
    // (possibly thousands of) blocked queries it wakes are answered.
    this.#releaseRevWaiters();
    for (let i = 0; i < changed.length; i += 2) this.notifier.changed(changed[i], changed[i + 1]);
  }

  /** Sessions deleted by this batch, with their lock-delay in ms (a shared empty map when it touches no session). */
  #invalidatedSessions(batch: WatchBatch): ReadonlyMap<string, number> {
    let out: Map<string, number> | null = null;
    for (const ev of batch.events) {
      const id = sessionIdOf(ev.kv.key);
      if (id === null) continue;
      out ??= new Map();
      const s = this.sessions.get(id);
      // A snapshot restore deletes and re-puts every session in one batch: not an invalidation.
      if (ev.type === 'put') out.delete(id);
      else if (s) out.set(s.ID, s.LockDelay / 1e6);
    }
    return out ?? NO_SESSIONS;
  }

  // Consul starts the lock-delay on every key an invalidated session held (released or
  // deleted in the same transaction), using the applying server's clock.
  #startLockDelay(ev: WatchEvent, invalidated: ReadonlyMap<string, number>): void {
    if (ev.kv.key.startsWith(TENANT_PREFIX)) return this.#startTenantLockDelay(ev, invalidated);
    if (!ev.kv.key.startsWith(KV_PREFIX)) return;
    const key = ev.kv.key.slice(KV_PREFIX.length);
    const holder = this.kvs.get(key)?.Session;
    const delay = holder ? invalidated.get(holder) : undefined;
    if (delay) this.lockDelays.set(lockDelayKey(undefined, key), this.#deps.clock.now(), delay);
  }

  /** The lock-delay of a non-default tenant's key (`t/<ap>/<ns>/kv/<key>`), keyed by tenant and key. */
  #startTenantLockDelay(ev: WatchEvent, invalidated: ReadonlyMap<string, number>): void {
    const parsed = parseTenantKey(ev.kv.key);
    if (!parsed || !parsed.inner.startsWith(KV_PREFIX)) return;
    const key = parsed.inner.slice(KV_PREFIX.length);
    const holder = kvsOf(this, parsed.ent).get(key)?.Session;
    const delay = holder ? invalidated.get(holder) : undefined;
    if (delay) this.lockDelays.set(lockDelayKey(parsed.ent, key), this.#deps.clock.now(), delay);
  }

  #releaseRevWaiters(): void {
    if (this.#revWaiters.length === 0) return;
    const still: { revision: number; resolve: () => void }[] = [];
    for (const w of this.#revWaiters) {
      if (w.revision <= this.#applied) w.resolve();
      else still.push(w);
    }
    this.#revWaiters = still;
  }

  /** Resolves once the tables reflect `revision` (a write's commit, or a consistent read). */
  waitFor(revision: number): Promise<void> {
    if (revision <= this.#applied) return Promise.resolve();
    return new Promise((resolve) => this.#revWaiters.push({ revision, resolve }));
  }
}

const NO_SESSIONS: ReadonlyMap<string, number> = new Map();

/** The session id of a session key (`session/<id>`, or a tenant's `t/<ap>/<ns>/session/<id>`); null for any other key. */
function sessionIdOf(key: string): string | null {
  if (key.startsWith(SESSION_PREFIX)) return key.slice(SESSION_PREFIX.length);
  if (!key.startsWith(TENANT_PREFIX)) return null;
  const parsed = parseTenantKey(key);
  return parsed && parsed.inner.startsWith(SESSION_PREFIX) ? parsed.inner.slice(SESSION_PREFIX.length) : null;
}

function tableApplier(t: RecordTable<object>): Applier {
  return { prefix: t.prefix, apply: (ev, out) => void out.push(t.name, t.apply(ev)), reset: () => t.reset() };
}

/** Appends (table, key) tuples to a flat change list. */
function pairs(changes: [string, string][], out: Changes): void {
  for (const [table, key] of changes) out.push(table, key);
}
