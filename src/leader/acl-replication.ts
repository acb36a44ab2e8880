// ACL replication (Consul's acl_replication*.go), a leader duty of a secondary datacenter's
// server: policies and roles, and global tokens with acl.enable_token_replication, are copied
// from the primary with blocking list reads under acl.tokens.replication; what the primary
// deleted is deleted here; local tokens are never touched. A failed round backs off (1 s doubling
// up to a bound) and tries again, so replication outlives primary outages.
import type { ACLReplicationStatus } from '../acl/index.ts';
import type { TimerHandle } from '../clock.ts';
import { Guards, aclNameGuard, commitWrite, pinRecord, putOp, type EndpointDeps } from '../endpoint/index.ts';
import {
  ACL_POLICY_PREFIX, ACL_ROLE_PREFIX, ACL_TOKEN_PREFIX, DEFAULT_TENANCY_NAME, foldAclName, tenantKey, type AclTables, type EnterpriseMeta,
} from '../state/index.ts';
import { aclEnt, aclStoreKey } from '../state/acl-tables.ts';
import type { Compare, Op } from '../store/index.ts';
import { batches, diffAcl, type ReplicatedItem } from './acl-replication-diff.ts';
import type { LeaderLoop } from './loops.ts';

/** Go's zero time, as Consul shows a LastSuccess or LastError that never happened. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const REDACTED = '<hidden>';
/** Records written per store transaction. */
const BATCH = 64;

/** An answer of the primary. */
export interface PrimaryAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** What the replication duty needs. */
export interface AclReplicationDeps {
  epDeps: EndpointDeps;
  /** The primary datacenter's name. */
  primary: string;
  /** acl.enable_token_replication. */
  tokenReplication: boolean;
  /** Whether ACLs are enforced now (nothing is replicated while they are off). */
  enabled: () => boolean;
  /** acl.tokens.replication, read for every request. */
  token: () => string;
  /** A GET of `pathAndQuery` on the primary's servers under `token`. */
  get(pathAndQuery: string, token: string, signal: AbortSignal): Promise<PrimaryAnswer>;
  /** Blocking wait of each list read (default 5 minutes, Consul's default query time). */
  waitMs?: number;
  /** Bound of the backoff after failed rounds (default 64 s). */
  maxBackoffMs?: number;
  /** Rounds per second and burst per type (Consul's acl_replication rate limit: 1/s, burst 5). */
  rate?: { perSecond: number; burst: number };
}

/** Consul's rpc_client_timeout: what a read may take past its blocking wait before it is given up. */
const RPC_CLIENT_TIMEOUT_MS = 60_000;
/** Consul's blocking-query jitter: up to wait / 16 more. */
const JITTER_FRACTION = 16;

/** A replicated ACL table. */
export type ReplicationKind = 'policies' | 'roles' | 'tokens';
type Kind = ReplicationKind;
type Rec = Record<string, unknown>;

/** One replicated table: where it is listed in the primary and kept here. */
interface TypeSpec {
  kind: Kind;
  list: string;
  prefix: string;
  guard?: 'policy' | 'role';
  /** This datacenter's records of the type that replication owns (global ones, for tokens). */
  local(acl: AclTables): Rec[];
  id(r: Rec): string;
  /** The full records of `ids` (the list holds them, or each is read from the primary). */
  fetch(ids: string[], listed: Map<string, Rec>, signal: AbortSignal): Promise<Rec[]>;
}

/** Replication status and the duty that replicates while this server leads. */
export class AclReplication implements LeaderLoop {
  readonly name = 'acl-replication';
  readonly #d: AclReplicationDeps;
  #abort: AbortController | null = null;
  readonly #timers = new Set<TimerHandle>();
  #status: ACLReplicationStatus;
  readonly #index: Record<Kind, number> = { policies: 0, roles: 0, tokens: 0 };
  readonly #healthy: Record<Kind, boolean> = { policies: false, roles: false, tokens: false };
  /**
   * Whether list reads ask for every namespace (`ns=*`): until a primary refuses namespaces (Consul
   * CE's 400), then only its default namespace is replicated.
   */
  #allNamespaces = true;
  /** Token buckets of the round rate limit: tokens left and when they were counted. */
  readonly #buckets = new Map<Kind, { tokens: number; at: number }>();

  constructor(deps: AclReplicationDeps) {
    this.#d = deps;
    this.#status = {
      Enabled: true, Running: false, SourceDatacenter: deps.primary, ReplicationType: deps.tokenReplication ? 'tokens' : 'policies',
      ReplicatedIndex: 0, ReplicatedRoleIndex: 0, ReplicatedTokenIndex: 0, LastSuccess: GO_ZERO_TIME, LastError: GO_ZERO_TIME, LastErrorMessage: '',
    };
  }

  /** Consul's ACL.ReplicationStatus of this server. */
  status(): ACLReplicationStatus {
    return { ...this.#status };
  }

  /** Whether the last round of `kind` succeeded, and the primary's index it replicated (the leader.replication gauges). */
  health(kind: Kind): { healthy: boolean; index: number } {
    return { healthy: this.#healthy[kind], index: this.#index[kind] };
  }

  /** Starts one replication loop per type. */
  async start(): Promise<void> {
    this.stop();
    const abort = new AbortController();
    this.#abort = abort;
    this.#status.Running = true;
    // A new term reads everything at once (Consul's loops start at index 0): another leader, or a
    // snapshot restored here, may have changed this datacenter's copies since this server last led.
    for (const kind of Object.keys(this.#index) as Kind[]) this.#index[kind] = 0;
    const specs = [this.#policies(), this.#roles(), ...(this.#d.tokenReplication ? [this.#tokens()] : [])];
    for (const spec of specs) void this.#run(spec, abort.signal, 0);
  }

  /** Stops the loops (an outstanding read of the primary is aborted). */
  stop(): void {
    this.#abort?.abort();
    this.#abort = null;
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    this.#status.Running = false;
  }

  /** One replication round of `kind` (what each loop repeats), for tests and tools. */
  async replicateOnce(kind: Kind, signal: AbortSignal = new AbortController().signal): Promise<void> {
    const spec = kind === 'policies' ? this.#policies() : kind === 'roles' ? this.#roles() : this.#tokens();
    await this.#round(spec, signal);
  }

  async #run(spec: TypeSpec, signal: AbortSignal, failures: number): Promise<void> {
    if (signal.aborted) return;
    let next = failures;
    try {
      if (this.#d.enabled()) {
        await this.#round(spec, signal);
        next = 0;
      } else {
        next = 1;
      }
    } catch (err) {
      if (signal.aborted) return;
      next = failures + 1;
      // A failed round syncs in full next time (Consul resets lastRemoteIndex).
      this.#index[spec.kind] = 0;
      this.#healthy[spec.kind] = false;
      const message = (err as Error).message;
      this.#status.LastError = this.#now();
      this.#status.LastErrorMessage = message;
      this.#d.epDeps.logger.warn({ error: message, type: spec.kind }, 'ACL replication error (will retry if still leader)');
    }
    if (signal.aborted) return;
    const wait = next === 0 ? this.#rateWait(spec.kind) : Math.min(1000 * 2 ** (next - 1), this.#d.maxBackoffMs ?? 64_000);
    if (wait === 0) return void this.#run(spec, signal, 0);
    const timer = this.#d.epDeps.clock.setTimer(wait, () => {
      this.#timers.delete(timer);
      void this.#run(spec, signal, next);
    });
    this.#timers.add(timer);
  }

  // Consul's limiter before each round: a primary whose blocking reads return at once is not asked in a tight loop.
  #rateWait(kind: Kind): number {
    const { perSecond, burst } = this.#d.rate ?? { perSecond: 1, burst: 5 };
    const now = this.#d.epDeps.clock.now();
    const b = this.#buckets.get(kind) ?? { tokens: burst, at: now };
    const tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    const wait = tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / perSecond) * 1000);
    // The round about to run takes a token (counted at the moment it will start).
    this.#buckets.set(kind, { tokens: tokens + (wait / 1000) * perSecond - 1, at: now + wait });
    return wait;
  }

  // A read of the primary, given up past its blocking wait, the jitter and rpc_client_timeout (a
  // primary gone without closing the connection would otherwise hold replication forever).
  async #get(pathAndQuery: string, waitMs: number, signal: AbortSignal): Promise<PrimaryAnswer> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const limit = waitMs + waitMs / JITTER_FRACTION + RPC_CLIENT_TIMEOUT_MS;
    let timedOut = false;
    const timer = this.#d.epDeps.clock.setTimer(limit, () => { timedOut = true; ctl.abort(); });
    try {
      return await this.#d.get(pathAndQuery, this.#d.token(), ctl.signal);
    } catch (err) {
      if (timedOut) throw new Error(`rpc error: timeout after ${Math.round(limit / 1000)}s`, { cause: err });
      throw err;
    } finally {
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
    }
  }

  async #round(spec: TypeSpec, signal: AbortSignal): Promise<void> {
    const last = this.#index[spec.kind];
    const waitMs = this.#d.waitMs ?? 300_000;
    const query = `?dc=${encodeURIComponent(this.#d.primary)}&stale=&index=${last}&wait=${Math.ceil(waitMs / 1000)}s`;
    let res = await this.#get(spec.list + query + (this.#allNamespaces ? '&ns=*' : ''), waitMs, signal);
    if (this.#allNamespaces && res.status === 400 && /Namespaces are a Consul Enterprise feature/.test(res.body.toString('utf8'))) {
      this.#allNamespaces = false;
      res = await this.#get(spec.list + query, waitMs, signal);
    }
    const text = res.body.toString('utf8');
    if (res.status !== 200) throw new Error(`failed to retrieve remote ACL ${spec.kind}: ${text.trim() || `status ${res.status}`}`);
    const index = Number(res.headers['X-Consul-Index'] ?? 0);
    const listed = new Map<string, Rec>();
    // Cross-datacenter replication covers the default partition only (Consul Enterprise's limit).
    for (const r of JSON.parse(text) as Rec[]) {
      if ((spec.kind !== 'tokens' || r.Local !== true) && (r.Partition ?? DEFAULT_TENANCY_NAME) === DEFAULT_TENANCY_NAME) listed.set(spec.id(r), r);
    }
    const remote: ReplicatedItem[] = [...listed.values()].map((r) => ({ id: spec.id(r), hash: String(r.Hash ?? '') }));
    const local: ReplicatedItem[] = spec.local(this.#d.epDeps.replica.acl).map((r) => ({ id: spec.id(r), hash: String(r.Hash ?? '') }));
    const diff = diffAcl(local, remote);
    const records = await spec.fetch(diff.updates, listed, signal);
    for (const ids of batches(diff.deletes, BATCH)) await this.#apply(spec, ids, []);
    for (const recs of batches(records, BATCH)) await this.#apply(spec, [], recs);
    if (diff.deletes.length || records.length) {
      this.#d.epDeps.logger.info({ type: spec.kind, deleted: diff.deletes.length, updated: records.length, index }, 'ACL replication applied changes');
    }
    // The diff is over every record, so an index that went backwards (the primary restored) needs no second pass.
    this.#index[spec.kind] = index;
    this.#healthy[spec.kind] = true;
    if (spec.kind === 'policies') this.#status.ReplicatedIndex = index;
    else if (spec.kind === 'roles') this.#status.ReplicatedRoleIndex = index;
    else this.#status.ReplicatedTokenIndex = index;
    this.#status.LastSuccess = this.#now();
  }

  // Deletes and writes in one transaction, each pinned to the record this round saw, with the name guards of policies and roles.
  async #apply(spec: TypeSpec, deletes: string[], puts: Rec[]): Promise<void> {
    const deps = this.#d.epDeps;
    await commitWrite(deps, () => {
      const table = tableOf(deps.replica.acl, spec.kind);
      const guards = new Guards(deps.replica.appliedRevision);
      const compares: Compare[] = [];
      const ops: Op[] = [];
      for (const id of deletes) {
        const existing = table.get(id);
        if (!existing) continue;
        const ent = aclEnt(existing);
        compares.push(pinRecord(aclStoreKey(spec.prefix, id, ent), existing));
        ops.push({ type: 'delete', key: aclStoreKey(spec.prefix, id, ent) });
        if (spec.guard) guards.release(tenantKey(ent, aclNameGuard(spec.guard, String(existing.Name))));
      }
      for (const listed of puts) {
        // A namespaced record lands under its namespace's prefix here, its tenancy fields stripped (the key says it).
        const { rec, ent } = tenancyOf(listed);
        const id = spec.id(rec);
        const found = table.get(id);
        const key = aclStoreKey(spec.prefix, id, ent);
        // A record of the same id in another namespace here (the primary recreated it): replaced.
        const moved = found && aclStoreKey(spec.prefix, id, aclEnt(found)) !== key ? found : undefined;
        const existing = moved ? undefined : found;
        if (moved) {
          compares.push(pinRecord(aclStoreKey(spec.prefix, id, aclEnt(moved)), moved));
          ops.push({ type: 'delete', key: aclStoreKey(spec.prefix, id, aclEnt(moved)) });
          if (spec.guard) guards.release(tenantKey(aclEnt(moved), aclNameGuard(spec.guard, String(moved.Name))));
        }
        compares.push(pinRecord(key, existing));
        ops.push(putOp(key, rec));
        if (!spec.guard) continue;
        const prev = existing ? String(existing.Name) : undefined;
        if (prev !== undefined && foldAclName(prev) === foldAclName(String(rec.Name))) continue;
        if (prev !== undefined) guards.release(tenantKey(ent, aclNameGuard(spec.guard, prev)));
        guards.claim(tenantKey(ent, aclNameGuard(spec.guard, String(rec.Name))));
      }
      return guards.addTo({ compares, ops });
    });
  }

  #policies(): TypeSpec {
    return {
      kind: 'policies', list: '/v1/acl/policies', prefix: ACL_POLICY_PREFIX, guard: 'policy',
      local: (acl) => acl.policies.all() as unknown as Rec[], id: (r) => String(r.ID),
      // The list holds stubs without Rules: each new or changed policy is read in full.
      fetch: async (ids, _listed, signal) => {
        const out: Rec[] = [];
        for (const id of ids) {
          const ns = _listed.get(id)?.Namespace;
          const p = await this.#read(`/v1/acl/policy/${encodeURIComponent(id)}`, 'policy', signal, typeof ns === 'string' ? ns : undefined);
          if (p) out.push(stored(p));
        }
        return out;
      },
    };
  }

  #roles(): TypeSpec {
    return {
      kind: 'roles', list: '/v1/acl/roles', prefix: ACL_ROLE_PREFIX, guard: 'role',
      local: (acl) => acl.roles.all() as unknown as Rec[], id: (r) => String(r.ID),
      fetch: async (ids, listed) => ids.map((id) => stored(listed.get(id)!)),
    };
  }

  #tokens(): TypeSpec {
    return {
      kind: 'tokens', list: '/v1/acl/tokens', prefix: ACL_TOKEN_PREFIX,
      local: (acl) => acl.tokens.all().filter((t) => !t.Local) as unknown as Rec[], id: (r) => String(r.AccessorID),
      fetch: async (ids, listed) => ids.map((id) => {
        const t = listed.get(id)!;
        if (t.SecretID === REDACTED || !t.SecretID) {
          throw new Error('failed to retrieve unredacted tokens - replication token in use does not grant acl:write');
        }
        const { Legacy: _l, ...rest } = stored(t);
        return rest;
      }),
    };
  }

  async #read(path: string, what: string, signal: AbortSignal, ns?: string): Promise<Rec | null> {
    const inNs = ns && ns !== DEFAULT_TENANCY_NAME ? `&ns=${encodeURIComponent(ns)}` : '';
    const res = await this.#get(`${path}?dc=${encodeURIComponent(this.#d.primary)}&stale=${inNs}`, 0, signal);
    if (res.status === 404) return null;
    if (res.status !== 200) throw new Error(`failed to retrieve ACL ${what} updates: ${res.body.toString('utf8').trim() || `status ${res.status}`}`);
    return JSON.parse(res.body.toString('utf8')) as Rec;
  }

  // Consul's time.Now().Round(time.Second).UTC(), as Go encodes it.
  #now(): string {
    return new Date(Math.round(this.#d.epDeps.clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  }
}

function tableOf(acl: AclTables, kind: Kind): { get(id: string): (Rec & { ModifyIndex: number }) | undefined } {
  return (kind === 'policies' ? acl.policies : kind === 'roles' ? acl.roles : acl.tokens) as unknown as { get(id: string): (Rec & { ModifyIndex: number }) | undefined };
}

/** A listed record's tenant (its Namespace; the default partition's) and the record without its tenancy fields. */
function tenancyOf(r: Rec): { rec: Rec; ent: EnterpriseMeta | undefined } {
  const { Namespace, Partition: _p, ...rec } = r;
  const ns = typeof Namespace === 'string' ? Namespace.toLowerCase() : DEFAULT_TENANCY_NAME;
  return { rec, ent: ns === DEFAULT_TENANCY_NAME ? undefined : { partition: DEFAULT_TENANCY_NAME, namespace: ns } };
}

/** A record as this datacenter stores it: indexes come from its own revisions, link names are looked up when shown. */
function stored(r: Rec): Rec {
  const { CreateIndex: _c, ModifyIndex: _m, ...rest } = r;
  for (const k of ['Policies', 'Roles']) {
    if (Array.isArray(rest[k])) rest[k] = (rest[k] as Rec[]).map((l) => ({ ID: l.ID }));
  }
  return rest;
}
