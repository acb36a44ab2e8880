// The intentions endpoint (Consul's Intention.Apply/Get/List/Match/Check, 1.9+): a view over the
// service-intentions config entries. Writes upsert or remove one source of the destination's entry
// (deleting the entry with its last source), pinned by store compares; reads derive intentions.
import { BadRequestError, InternalError, NotFoundError, PermissionDeniedError } from '../errors.ts';
import {
  DEFAULT_ENT, DEFAULT_TENANCY_NAME, NAMESPACES_TABLE, WILDCARD_NAMESPACE, encodeRecord, isDefaultEnt, foldTenancyName,
  configEntriesOf, configEntryStoreKey, configEntriesTableName, namespacesFor, wildcardNamespaceOf,
  type ConfigEntry, type EnterpriseMeta,
} from '../state/index.ts';
import type { WatchSet } from '../state/notify.ts';
import { filterList } from '../filter/index.ts';
import {
  entryIntentions, intentionDecision, matchIntentions, sortIntentions, WILDCARD,
  type Intention, type IntentionsEntry, type MatchType, type SourceIntention,
} from '../connect/intentions.ts';
import { parseAgentUri, parseServiceUri } from '../connect/spiffe.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { commitPlanned, pinRecord, type Plan } from './commit.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed, authorize, entContext, filterAllowed } from './acl-enforce.ts';
import { inTenant } from './kv.ts';
import { checkConfigEntry, pinnedTenant } from './config-entries.ts';
import { normalizeIntentions, validateIntentions } from './config-entry-intentions.ts';

/** The config entry kind intentions live in. */
export const INTENTIONS_KIND = 'service-intentions';
const KIND = INTENTIONS_KIND;
/** Consul's ErrConnectNotEnabled text (a 500 on these routes). */
const CONNECT_NOT_ENABLED = 'Connect must be enabled in order to use this endpoint';
/** Consul's ErrIntentionNotFound text. */
export const INTENTION_NOT_FOUND = 'Intention not found';

/** Settings the intentions endpoint reads. */
export interface IntentionSettings {
  connectEnabled: boolean;
}

/** A service named by an intention request: its name and tenant (absent: default). */
export interface IntentionName {
  name: string;
  ent?: EnterpriseMeta;
}

/** An intention write through the exact (by-name) API: the body fields Consul keeps. */
export interface IntentionUpsert {
  SourceName: string;
  DestinationName: string;
  /** The source's tenant (absent: the default namespace and partition). */
  source?: EnterpriseMeta;
  /** The destination's tenant, where the entry is written (absent: default). */
  destination?: EnterpriseMeta;
  SourcePeer?: string;
  Action?: string;
  Permissions?: unknown[] | null;
  Description?: string;
  Meta?: Record<string, string> | null;
  SourceType?: string;
}

/** The bare permission-denied error Consul's intention writes and reads return (acl.ErrPermissionDenied). */
export const denied = (): PermissionDeniedError => new PermissionDeniedError('Permission denied');

/** Intention.String(): `src => dst (ID: …, Action: ALLOW, Precedence: 9)` (Permissions: n for L7). */
export function intentionString(ixn: Intention): string {
  const id = ixn.ID ? `ID: ${ixn.ID}, ` : '';
  const detail = ixn.Permissions?.length ? `Permissions: ${ixn.Permissions.length}` : `Action: ${(ixn.Action ?? '').toUpperCase()}`;
  return `${ixn.SourceName} => ${ixn.DestinationName} (${id}${detail}, Precedence: ${ixn.Precedence})`;
}

/** The Go zero values of the fields an intention's JSON omits when empty, which `?filter` still sees. */
const ZERO_FIELDS = {
  ID: '', Description: '', SourcePeer: '', SourcePartition: '', DestinationPartition: '', SourceSamenessGroup: '',
  Action: '', Permissions: [], Meta: {},
};

/** `?filter` over intentions as bexpr sees structs.Intention: omitted fields hold their zero values. */
function filterIntentions(list: Intention[], filter?: string): Intention[] {
  if (!filter) return list;
  const full = new Map(list.map((i) => [{ ...ZERO_FIELDS, ...i }, i] as const));
  return filterList([...full.keys()], filter).map((f) => full.get(f)!);
}

/** CanRead: intentions:read on the source or on the destination (each in its namespace). */
export function canReadIntention(id: AclIdentity | undefined, ixn: Intention): boolean {
  return allowed(id, 'intentionRead', ixn.SourceName, ixnContext(ixn.SourcePartition, ixn.SourceNS))
    || allowed(id, 'intentionRead', ixn.DestinationName, ixnContext(ixn.DestinationPartition, ixn.DestinationNS));
}

/**
 * The ACL context of one side of an intention (none in the default tenant). A wildcard namespace
 * side is judged in the wildcard namespace, as Consul Enterprise's FillAuthzContext fills it and as
 * the entry is written and read through /v1/config: only rules covering every namespace reach it.
 */
function ixnContext(partition: string | undefined, namespace: string) {
  return entContext({ partition: partition || DEFAULT_TENANCY_NAME, namespace });
}

/** A tenant as a store or table key wants it: undefined for the default tenant. */
function tenantOf(ent: EnterpriseMeta | undefined): EnterpriseMeta | undefined {
  return ent === undefined || isDefaultEnt(ent) ? undefined : ent;
}

/** Whether a stored source is the local service `name` of tenant `ent` (stored Namespace/Partition absent: default). */
function sameSource(s: SourceIntention, name: string, ent: EnterpriseMeta | undefined): boolean {
  return !s.Peer && !s.SamenessGroup && s.Name === name
    && (s.Namespace || DEFAULT_TENANCY_NAME) === foldTenancyName(ent?.namespace || DEFAULT_TENANCY_NAME)
    && (s.Partition || DEFAULT_TENANCY_NAME) === foldTenancyName(ent?.partition || DEFAULT_TENANCY_NAME);
}

/** Whether the caller's default for connections without a matching intention is allow. */
export function defaultAllow(id: AclIdentity | undefined): boolean {
  return !id || id.authorizer.intentionDefaultAllow() === 'allow';
}

function sameMeta(a: Record<string, string> | null | undefined, b: Record<string, string>): boolean {
  const x = a ?? {};
  const keys = Object.keys(x);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && x[k] === b[k]);
}

/**
 * Rewrites the destination's service-intentions entry with the sources `change` returns (null:
 * nothing to do; none left: the entry is deleted), normalized and validated as a config entry
 * write (`legacy`: as an ID-based intention write), pinned to the entry `change` saw.
 */
export function writeIntentions(
  deps: EndpointDeps, destination: string, legacy: boolean,
  change: (cur: ConfigEntry | undefined) => SourceIntention[] | null, destinationEnt?: EnterpriseMeta,
): Promise<void> {
  const ent = tenantOf(destinationEnt);
  const key = configEntryStoreKey(ent, KIND, destination);
  return commitPlanned<void>(deps, inTenant(deps.replica.tenants, pinnedTenant(ent), (): Plan<void> => {
    const cur = configEntriesOf(deps.replica, ent).get(KIND, destination);
    const sources = change(cur);
    if (sources === null) return { answer: undefined };
    const pin = pinRecord(key, cur);
    if (sources.length === 0) {
      if (!cur) return { answer: undefined };
      return { txn: { compares: [pin], success: [{ type: 'delete', key }] }, done: () => undefined };
    }
    const { CreateIndex: _c, ModifyIndex: _m, Namespace: _n, Partition: _p, ...base } = (cur ?? { Kind: KIND, Name: destination }) as ConfigEntry;
    const entry: Record<string, unknown> = { ...base, Kind: KIND, Name: destination, Sources: sources.map((s) => ({ ...s })) };
    let err: string | null;
    if (legacy) {
      normalizeIntentions(entry, true, ent);
      err = validateIntentions(entry, true, ent);
    } else {
      err = checkConfigEntry(KIND, entry, ent);
    }
    if (err) throw new InternalError(err);
    return { txn: { compares: [pin], success: [{ type: 'put', key, value: encodeRecord(entry) }] }, done: () => undefined };
  }));
}

/** Intention operations. */
export class IntentionEndpoint {
  readonly #deps: EndpointDeps;
  readonly #s: IntentionSettings;

  constructor(deps: EndpointDeps, settings: IntentionSettings = { connectEnabled: true }) {
    this.#deps = deps;
    this.#s = settings;
  }

  #enabled(): void {
    if (!this.#s.connectEnabled) throw new InternalError(CONNECT_NOT_ENABLED);
  }

  #entry(name: string, ent?: EnterpriseMeta): ConfigEntry | undefined {
    return configEntriesOf(this.#deps.replica, tenantOf(ent)).get(KIND, name);
  }

  /** The intentions entries of one tenant (the default one when absent). */
  #entries(ent?: EnterpriseMeta): IntentionsEntry[] {
    return configEntriesOf(this.#deps.replica, tenantOf(ent)).list(KIND) as unknown as IntentionsEntry[];
  }

  /**
   * The tenants a read covers, each watched on the intentions kind: `one`, the tenant named (the
   * wildcard namespace's table for `*`); `destination`, the namespace named and its partition's
   * wildcard namespace, whose `*` destination covers every namespace (a change there also wakes
   * each namespace's table, so only the namespace's own is watched); `all`, every namespace of
   * the partition and its wildcard namespace (a source may be named by any of them).
   */
  #parts(ent: EnterpriseMeta | undefined, ws: WatchSet, mode: 'one' | 'destination' | 'all'): EnterpriseMeta[] {
    const wild = wildcardNamespaceOf(ent);
    let tenants: EnterpriseMeta[];
    if (mode === 'all') {
      // A namespace created while the read blocks may hold matching entries by the time it is re-run.
      ws.addTable(NAMESPACES_TABLE);
      tenants = [...namespacesFor(this.#deps.replica, ent?.partition || DEFAULT_TENANCY_NAME), wild];
    } else if (mode === 'one' || ent?.namespace === WILDCARD_NAMESPACE) {
      tenants = [ent ?? DEFAULT_ENT];
    } else {
      ws.addPrefix(configEntriesTableName(tenantOf(ent)), `${KIND}/`);
      return [ent ?? DEFAULT_ENT, wild];
    }
    for (const t of tenants) ws.addPrefix(configEntriesTableName(tenantOf(t)), `${KIND}/`);
    return tenants;
  }

  /** The intentions entries of several tenants. */
  #entriesOf(tenants: EnterpriseMeta[]): IntentionsEntry[] {
    if (tenants.length === 1) return this.#entries(tenants[0]);
    // Tables without intentions (the wildcard namespace's, usually) add nothing: no copy for them.
    const holding = tenants.filter((t) => configEntriesOf(this.#deps.replica, tenantOf(t)).count(KIND) > 0);
    return holding.length === 1 ? this.#entries(holding[0]) : holding.flatMap((t) => this.#entries(t));
  }

  /** The highest index of the tenants' tables (at least 1). */
  #index(tenants: EnterpriseMeta[]): number {
    let index = 1;
    for (const t of tenants) index = Math.max(index, configEntriesOf(this.#deps.replica, tenantOf(t)).index);
    return index;
  }

  /** Upserts the intention from `ixn.SourceName` to `ixn.DestinationName` (computeApplyChangesUpsert). */
  async upsert(ixn: IntentionUpsert, authz?: AclIdentity): Promise<void> {
    this.#enabled();
    if (ixn.SourcePeer) throw new InternalError('SourcePeer field is not supported on this endpoint. Use config entries instead');
    if (!allowed(authz, 'intentionWrite', ixn.DestinationName, entContext(ixn.destination))) throw denied();
    const src: SourceIntention = { Name: ixn.SourceName, Type: ixn.SourceType ?? '' };
    // Stored as a config entry write stores it: normalize drops `default` and inherits the destination's.
    if (ixn.source && !isDefaultEnt(ixn.source)) Object.assign(src, { Namespace: ixn.source.namespace, Partition: ixn.source.partition });
    else if (ixn.destination && !isDefaultEnt(ixn.destination)) Object.assign(src, { Namespace: DEFAULT_TENANCY_NAME, Partition: DEFAULT_TENANCY_NAME });
    if (ixn.Action) src.Action = ixn.Action;
    if (ixn.Permissions?.length) src.Permissions = ixn.Permissions;
    if (ixn.Description) src.Description = ixn.Description;
    const meta = ixn.Meta && Object.keys(ixn.Meta).length ? ixn.Meta : undefined;
    await writeIntentions(this.#deps, ixn.DestinationName, false, (cur) => {
      if (meta && !cur) throw new InternalError('Meta must not be specified');
      if (meta && !sameMeta(cur?.Meta as Record<string, string> | undefined, meta)) {
        throw new InternalError('Meta must not be specified, or should be unchanged during an update.');
      }
      const sources = [...((cur?.Sources as SourceIntention[] | null) ?? [])];
      const at = sources.findIndex((s) => sameSource(s, ixn.SourceName, ixn.source));
      if (at >= 0) sources[at] = src;
      else sources.push(src);
      return sources;
    }, ixn.destination);
  }

  /** Deletes the intention from `source` to `destination`; idempotent (computeApplyChangesDelete). */
  async deleteExact(source: string | IntentionName, destination: string | IntentionName, authz?: AclIdentity): Promise<void> {
    this.#enabled();
    const src = named(source);
    const dst = named(destination);
    if (!allowed(authz, 'intentionWrite', dst.name, entContext(dst.ent))) throw denied();
    await writeIntentions(this.#deps, dst.name, false, (cur) => {
      const sources = (cur?.Sources as SourceIntention[] | null) ?? [];
      const kept = sources.filter((s) => !sameSource(s, src.name, src.ent));
      return kept.length === sources.length ? null : kept;
    }, dst.ent);
  }

  /** The intention from `source` (of `peer`, if given) to `destination` (Intention.Get with Exact); 404 when absent. */
  getExact(source: string | IntentionName, destination: string | IntentionName, opts: QueryOptions, peer = ''): Promise<QueryResult<Intention>> {
    this.#enabled();
    const src = named(source);
    const dst = named(destination);
    const srcNs = foldTenancyName(src.ent?.namespace || DEFAULT_TENANCY_NAME);
    const srcAp = foldTenancyName(src.ent?.partition || DEFAULT_TENANCY_NAME);
    return blockingQuery(this.#deps, opts, (ws) => {
      const tenants = this.#parts(dst.ent, ws, 'one');
      const e = this.#entry(dst.name, dst.ent) as unknown as IntentionsEntry | undefined;
      const ixn = e && entryIntentions(e).find((i) => (i.SourcePeer ?? '') === peer && !i.SourceSamenessGroup && i.SourceName === src.name
        && i.SourceNS === srcNs && (peer !== '' || (i.SourcePartition || DEFAULT_TENANCY_NAME) === srcAp));
      if (!ixn) throw new NotFoundError(INTENTION_NOT_FOUND);
      if (!canReadIntention(opts.authz, ixn)) throw denied();
      return { index: this.#index(tenants), value: ixn };
    });
  }

  /**
   * Every intention in precedence order, with `?filter`, filtered by intentions:read (Intention.List):
   * those whose destination is in the request's namespace, or in any namespace of its partition for `*`.
   */
  list(opts: QueryOptions, filter?: string): Promise<QueryResult<Intention[]>> {
    this.#enabled();
    return blockingQuery(this.#deps, opts, (ws) => {
      const tenants = this.#parts(opts.ent, ws, opts.ent?.namespace === WILDCARD_NAMESPACE ? 'all' : 'one');
      const all = sortIntentions(this.#entriesOf(tenants).flatMap(entryIntentions));
      const rows = filterIntentions(all, filter);
      const { items, filtered } = filterAllowed(opts.authz, rows, (i) => canReadIntention(opts.authz, i));
      return { index: this.#index(tenants), value: items, filtered };
    });
  }

  /**
   * The intentions matching each name by source or destination (Intention.Match); intentions:read on
   * each name. A name in another namespace is given with its tenant; by destination reads that
   * namespace's entries, by source every namespace's (a source may be named by any of them).
   */
  match(by: MatchType, names: (string | IntentionName)[], opts: QueryOptions): Promise<QueryResult<Intention[][]>> {
    this.#enabled();
    const wanted = names.map(named);
    for (const n of wanted) if (n.name !== '') authorize(opts.authz, 'intentionRead', n.name, entContext(n.ent));
    return blockingQuery(this.#deps, opts, (ws) => {
      const out: Intention[][] = [];
      let index = 1;
      for (let i = 0; i < wanted.length; i++) {
        const n = wanted[i];
        // A repeated name answers once (the HTTP answer is keyed by name).
        const prev = i === 0 ? 0 : wanted.findIndex((w) => w.name === n.name && entKeyOf(w.ent) === entKeyOf(n.ent));
        if (prev < i) {
          out[i] = out[prev];
          continue;
        }
        const tenants = this.#parts(n.ent, ws, by === 'source' ? 'all' : 'destination');
        index = Math.max(index, this.#index(tenants));
        const entries = this.#entriesOf(tenants);
        const ns = n.ent ? foldTenancyName(n.ent.namespace) : DEFAULT_TENANCY_NAME;
        const matched = matchIntentions(entries, by, n.name, ns);
        const ap = n.ent ? foldTenancyName(n.ent.partition) : DEFAULT_TENANCY_NAME;
        // By source, the source's partition too: another partition's service of the same name is another service.
        out[i] = by === 'source' ? matched.filter((x) => (x.SourcePartition || DEFAULT_TENANCY_NAME) === ap) : matched;
      }
      return { index, value: out };
    });
  }

  /** Whether a connection from `source` to `destination` is allowed (Intention.Check; L7 intentions deny). */
  check(source: string | IntentionName, destination: string | IntentionName, sourceType: string, authz?: AclIdentity): { Allowed: boolean } {
    this.#enabled();
    if (sourceType !== 'consul') throw new InternalError(`unsupported SourceType: ${JSON.stringify(sourceType)}`);
    const dst = named(destination);
    if (dst.name !== '') authorize(authz, 'serviceRead', dst.name, entContext(dst.ent));
    return { Allowed: this.decide(source, destination, defaultAllow(authz)).allowed };
  }

  /**
   * The decision for a connection from `source` to `target` with the given default: the
   * highest-precedence intention naming both (Consul's IntentionDecision over the source's matches;
   * read here from the target's namespace, where every intention with that destination is stored).
   */
  decide(source: string | IntentionName, target: string | IntentionName, dflt: boolean, allowPermissions = false) {
    const src = named(source);
    const dst = named(target);
    const srcNs = foldTenancyName(src.ent?.namespace || DEFAULT_TENANCY_NAME);
    const srcAp = foldTenancyName(src.ent?.partition || DEFAULT_TENANCY_NAME);
    const dstNs = foldTenancyName(dst.ent?.namespace || DEFAULT_TENANCY_NAME);
    const entries = [...this.#entries(dst.ent), ...this.#entries(wildcardNamespaceOf(dst.ent))];
    const bySource = matchIntentions(entries, 'destination', dst.name, dstNs).filter((i) => !i.SourcePeer && !i.SourceSamenessGroup
      && (i.SourceName === src.name || i.SourceName === WILDCARD) && (i.SourceNS === srcNs || i.SourceNS === WILDCARD)
      && (i.SourcePartition || DEFAULT_TENANCY_NAME) === srcAp);
    return intentionDecision(bySource, dst.name, dflt, allowPermissions, dstNs);
  }

  /**
   * The agent's ConnectAuthorize: whether the client certificate's service may connect to `target`
   * (service:write on it), with Consul's reason. The trust domain is not compared, as in Consul.
   */
  authorizeConnect(target: string, clientCertURI: string, authz?: AclIdentity, targetEnt?: EnterpriseMeta): { Authorized: boolean; Reason: string } {
    if (target === '') throw new BadRequestError('Target service must be specified');
    const svc = parseServiceUri(clientCertURI);
    if (!svc) {
      const other = parseAgentUri(clientCertURI) || /^spiffe:\/\/[^/]+\/(gateway\/mesh|agent\/server)\/dc\/[^/]+$/.test(clientCertURI);
      throw new BadRequestError(other ? 'ClientCertURI not a valid Service identifier' : 'ClientCertURI not a valid Connect identifier');
    }
    const ent = tenantOf(targetEnt);
    authorize(authz, 'serviceWrite', target, entContext(ent));
    // The certificate's service in its namespace; the target in the request's (default: the default namespace).
    const entries = [...this.#entries(ent), ...this.#entries(wildcardNamespaceOf(ent))];
    const ns = ent ? foldTenancyName(ent.namespace) : DEFAULT_TENANCY_NAME;
    // The certificate's tenancy folded, as signing checked service:write in it (`ns/TEAM-A` is team-a).
    const srcNs = foldTenancyName(svc.namespace);
    const srcAp = foldTenancyName(svc.partition ?? DEFAULT_TENANCY_NAME);
    const ixn = matchIntentions(entries, 'destination', target, ns).find((i) => !i.SourcePeer && !i.SourceSamenessGroup
      && (i.SourceName === WILDCARD || i.SourceName === svc.service) && (i.SourceNS === WILDCARD || i.SourceNS === srcNs)
      && (i.SourcePartition ?? DEFAULT_TENANCY_NAME) === srcAp);
    if (!ixn) return { Authorized: defaultAllow(authz), Reason: 'Default behavior configured by ACLs' };
    if (ixn.Permissions?.length) return { Authorized: false, Reason: `Matched L7 intention: ${intentionString(ixn)}` };
    return { Authorized: ixn.Action === 'allow', Reason: `Matched L4 intention: ${intentionString(ixn)}` };
  }
}

/** A name given bare (the default tenant) or with its tenant. */
function named(n: string | IntentionName): IntentionName {
  return typeof n === 'string' ? { name: n } : n;
}

/** A tenant's identity for comparing two names' tenants. */
function entKeyOf(ent: EnterpriseMeta | undefined): string {
  return ent && !isDefaultEnt(ent) ? `${foldTenancyName(ent.partition)}/${foldTenancyName(ent.namespace)}` : '';
}

/**
 * parseIntentionStringComponent for `[[partition/]ns/]name` (peers refused): the name and its
 * tenant (a bare name is in the request's `dflt` tenant), or Consul's texts.
 */
export function parseIntentionName(what: string, input: string, dflt?: EnterpriseMeta): IntentionName {
  if (input.startsWith('peer:')) throw new InternalError(`${what} ${JSON.stringify(input)} is invalid: cannot specify a peer here`);
  const { name, ent } = parseIntentionPeerName(what, input, dflt);
  return { name, ent };
}

/** parseIntentionStringComponent with the `peer:<peer>/[ns/]name` form allowed (exact reads' source). */
export function parseIntentionPeerName(what: string, input: string, dflt?: EnterpriseMeta): { peer: string; name: string; ent?: EnterpriseMeta } {
  const invalid = (why: string) => new InternalError(`${what} ${JSON.stringify(input)} is invalid: ${why}`);
  const parts = input.split('/');
  const base = dflt ?? DEFAULT_ENT;
  if (parts[0].startsWith('peer:')) {
    if (parts.length === 1) throw invalid('need to specify the service name as well');
    if (parts.length > 3) throw invalid("input can contain at most two '/'");
    // A peer's service is in the default partition of the peer; only its namespace is named.
    const ns = parts.length === 3 ? parts[1] : '';
    return { peer: parts[0].slice('peer:'.length), name: parts[parts.length - 1], ent: ns ? { partition: DEFAULT_TENANCY_NAME, namespace: ns } : undefined };
  }
  if (parts.length > 3) throw invalid("input can contain at most two '/'");
  const partition = parts.length === 3 && parts[0] !== '' ? parts[0] : base.partition;
  const namespace = parts.length > 1 && parts[parts.length - 2] !== '' ? parts[parts.length - 2] : base.namespace;
  const ent = { partition, namespace };
  return { peer: '', name: parts[parts.length - 1], ent: isDefaultEnt(ent) ? undefined : ent };
}
