// The intentions endpoint (Consul's Intention.Apply/Get/List/Match/Check, 1.9+): a view over the
// service-intentions config entries. Writes upsert or remove one source of the destination's entry
// (deleting the entry with its last source), pinned by store compares; reads derive intentions.
import { BadRequestError, InternalError, NotFoundError, PermissionDeniedError } from '../errors.ts';
import { CONFIG_ENTRIES_TABLE, configEntryKey, encodeRecord, type ConfigEntry } from '../state/index.ts';
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
import { allowed, authorize, filterAllowed } from './acl-enforce.ts';
import { checkConfigEntry } from './config-entries.ts';
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

/** An intention write through the exact (by-name) API: the body fields Consul keeps. */
export interface IntentionUpsert {
  SourceName: string;
  DestinationName: string;
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

/** CanRead: intentions:read on the source or on the destination. */
export function canReadIntention(id: AclIdentity | undefined, ixn: Intention): boolean {
  return allowed(id, 'intentionRead', ixn.SourceName) || allowed(id, 'intentionRead', ixn.DestinationName);
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
  change: (cur: ConfigEntry | undefined) => SourceIntention[] | null,
): Promise<void> {
  const key = configEntryKey(KIND, destination);
  return commitPlanned<void>(deps, (): Plan<void> => {
    const cur = deps.replica.configEntries.get(KIND, destination);
    const sources = change(cur);
    if (sources === null) return { answer: undefined };
    const pin = pinRecord(key, cur);
    if (sources.length === 0) {
      if (!cur) return { answer: undefined };
      return { txn: { compares: [pin], success: [{ type: 'delete', key }] }, done: () => undefined };
    }
    const { CreateIndex: _c, ModifyIndex: _m, ...base } = cur ?? { Kind: KIND, Name: destination };
    const entry: Record<string, unknown> = { ...base, Kind: KIND, Name: destination, Sources: sources.map((s) => ({ ...s })) };
    let err: string | null;
    if (legacy) {
      normalizeIntentions(entry, true);
      err = validateIntentions(entry, true);
    } else {
      err = checkConfigEntry(KIND, entry);
    }
    if (err) throw new InternalError(err);
    return { txn: { compares: [pin], success: [{ type: 'put', key, value: encodeRecord(entry) }] }, done: () => undefined };
  });
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

  #entry(name: string): ConfigEntry | undefined {
    return this.#deps.replica.configEntries.get(KIND, name);
  }

  #entries(): IntentionsEntry[] {
    return this.#deps.replica.configEntries.list(KIND) as unknown as IntentionsEntry[];
  }

  /** Upserts the intention from `ixn.SourceName` to `ixn.DestinationName` (computeApplyChangesUpsert). */
  async upsert(ixn: IntentionUpsert, authz?: AclIdentity): Promise<void> {
    this.#enabled();
    if (ixn.SourcePeer) throw new InternalError('SourcePeer field is not supported on this endpoint. Use config entries instead');
    if (!allowed(authz, 'intentionWrite', ixn.DestinationName)) throw denied();
    const src: SourceIntention = { Name: ixn.SourceName, Type: ixn.SourceType ?? '' };
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
      const at = sources.findIndex((s) => !s.Peer && !s.SamenessGroup && s.Name === ixn.SourceName);
      if (at >= 0) sources[at] = src;
      else sources.push(src);
      return sources;
    });
  }

  /** Deletes the intention from `source` to `destination`; idempotent (computeApplyChangesDelete). */
  async deleteExact(source: string, destination: string, authz?: AclIdentity): Promise<void> {
    this.#enabled();
    if (!allowed(authz, 'intentionWrite', destination)) throw denied();
    await writeIntentions(this.#deps, destination, false, (cur) => {
      const sources = (cur?.Sources as SourceIntention[] | null) ?? [];
      const kept = sources.filter((s) => s.Peer || s.SamenessGroup || s.Name !== source);
      return kept.length === sources.length ? null : kept;
    });
  }

  /** The intention from `source` (of `peer`, if given) to `destination` (Intention.Get with Exact); 404 when absent. */
  getExact(source: string, destination: string, opts: QueryOptions, peer = ''): Promise<QueryResult<Intention>> {
    this.#enabled();
    const t = this.#deps.replica.configEntries;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addKey(CONFIG_ENTRIES_TABLE, `${KIND}/${destination}`);
      const e = this.#entry(destination) as unknown as IntentionsEntry | undefined;
      const ixn = e && entryIntentions(e).find((i) => (i.SourcePeer ?? '') === peer && !i.SourceSamenessGroup && i.SourceName === source);
      if (!ixn) throw new NotFoundError(INTENTION_NOT_FOUND);
      if (!canReadIntention(opts.authz, ixn)) throw denied();
      return { index: Math.max(t.index, 1), value: ixn };
    });
  }

  /** Every intention in precedence order, with `?filter`, filtered by intentions:read (Intention.List). */
  list(opts: QueryOptions, filter?: string): Promise<QueryResult<Intention[]>> {
    this.#enabled();
    const t = this.#deps.replica.configEntries;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addPrefix(CONFIG_ENTRIES_TABLE, `${KIND}/`);
      const all = sortIntentions(this.#entries().flatMap(entryIntentions));
      const rows = filterIntentions(all, filter);
      const { items, filtered } = filterAllowed(opts.authz, rows, (i) => canReadIntention(opts.authz, i));
      return { index: Math.max(t.index, 1), value: items, filtered };
    });
  }

  /** The intentions matching each name by source or destination (Intention.Match); intentions:read on each name. */
  match(by: MatchType, names: string[], opts: QueryOptions): Promise<QueryResult<Record<string, Intention[]>>> {
    this.#enabled();
    for (const name of names) if (name !== '') authorize(opts.authz, 'intentionRead', name);
    const t = this.#deps.replica.configEntries;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addPrefix(CONFIG_ENTRIES_TABLE, `${KIND}/`);
      const entries = this.#entries();
      const out: Record<string, Intention[]> = {};
      for (const name of names) out[name] = matchIntentions(entries, by, name);
      return { index: Math.max(t.index, 1), value: out };
    });
  }

  /** Whether a connection from `source` to `destination` is allowed (Intention.Check; L7 intentions deny). */
  check(source: string, destination: string, sourceType: string, authz?: AclIdentity): { Allowed: boolean } {
    this.#enabled();
    if (sourceType !== 'consul') throw new InternalError(`unsupported SourceType: ${JSON.stringify(sourceType)}`);
    if (destination !== '') authorize(authz, 'serviceRead', destination);
    return { Allowed: this.decide(source, destination, defaultAllow(authz)).allowed };
  }

  /** The decision for a connection from `source` to `target` with the given default. */
  decide(source: string, target: string, dflt: boolean, allowPermissions = false) {
    const bySource = matchIntentions(this.#entries(), 'source', source);
    return intentionDecision(bySource, target, dflt, allowPermissions);
  }

  /**
   * The agent's ConnectAuthorize: whether the client certificate's service may connect to `target`
   * (service:write on it), with Consul's reason. The trust domain is not compared, as in Consul.
   */
  authorizeConnect(target: string, clientCertURI: string, authz?: AclIdentity): { Authorized: boolean; Reason: string } {
    if (target === '') throw new BadRequestError('Target service must be specified');
    const svc = parseServiceUri(clientCertURI);
    if (!svc) {
      const other = parseAgentUri(clientCertURI) || /^spiffe:\/\/[^/]+\/(gateway\/mesh|agent\/server)\/dc\/[^/]+$/.test(clientCertURI);
      throw new BadRequestError(other ? 'ClientCertURI not a valid Service identifier' : 'ClientCertURI not a valid Connect identifier');
    }
    authorize(authz, 'serviceWrite', target);
    const ixn = matchIntentions(this.#entries(), 'destination', target).find((i) => !i.SourcePeer && !i.SourceSamenessGroup
      && (i.SourceName === WILDCARD || (i.SourceName === svc.service && svc.namespace === 'default')));
    if (!ixn) return { Authorized: defaultAllow(authz), Reason: 'Default behavior configured by ACLs' };
    if (ixn.Permissions?.length) return { Authorized: false, Reason: `Matched L7 intention: ${intentionString(ixn)}` };
    return { Authorized: ixn.Action === 'allow', Reason: `Matched L4 intention: ${intentionString(ixn)}` };
  }
}

/**
 * parseIntentionStringComponent for `[[partition/]ns/]name` (peers refused): the name, or Consul's
 * texts; `nsLabel` names the namespace in the CE refusal (`source`, `match entry`, …).
 */
export function parseIntentionName(what: string, input: string, nsLabel: string): string {
  if (input.startsWith('peer:')) throw new InternalError(`${what} ${JSON.stringify(input)} is invalid: cannot specify a peer here`);
  return parseIntentionPeerName(what, input, nsLabel).name;
}

/** parseIntentionStringComponent with the `peer:<peer>/[ns/]name` form allowed (exact reads' source). */
export function parseIntentionPeerName(what: string, input: string, nsLabel: string): { peer: string; name: string } {
  const invalid = (why: string) => new InternalError(`${what} ${JSON.stringify(input)} is invalid: ${why}`);
  const parts = input.split('/');
  if (parts[0].startsWith('peer:')) {
    if (parts.length === 1) throw invalid('need to specify the service name as well');
    if (parts.length > 3) throw invalid("input can contain at most two '/'");
    const ns = parts.length === 3 ? parts[1] : '';
    if (ns !== '' && ns.toLowerCase() !== 'default') {
      throw new InternalError(`Invalid ${nsLabel} namespace ${JSON.stringify(ns)}: Namespaces is a Consul Enterprise feature`);
    }
    return { peer: parts[0].slice('peer:'.length), name: parts[parts.length - 1] };
  }
  if (parts.length > 3) throw invalid("input can contain at most two '/'");
  if (parts.length === 3 && parts[0] !== '' && parts[0].toLowerCase() !== 'default') {
    throw new InternalError(`Invalid ${nsLabel} partition ${JSON.stringify(parts[0])}: Partitions is a Consul Enterprise feature`);
  }
  const ns = parts.length > 1 ? parts[parts.length - 2] : '';
  if (ns !== '' && ns.toLowerCase() !== 'default') {
    throw new InternalError(`Invalid ${nsLabel} namespace ${JSON.stringify(ns)}: Namespaces is a Consul Enterprise feature`);
  }
  return { peer: '', name: parts[parts.length - 1] };
}
