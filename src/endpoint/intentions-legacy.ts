// The deprecated ID-based intention operations (Consul's legacy create/update/delete and Get by
// ID): sources of service-intentions entries that carry a LegacyID, creation and update times and
// their own meta; refused on destinations already edited through config entries.
import { randomUUID } from 'node:crypto';
import { InternalError, NotFoundError } from '../errors.ts';
import {
  CONFIG_ENTRIES_TABLE, NAMESPACES_TABLE, DEFAULT_TENANCY_NAME, allConfigEntryTables, configEntriesTableName, isDefaultEnt,
  type ConfigEntry, type EnterpriseMeta,
} from '../state/index.ts';
import { toIntention, WILDCARD, type Intention, type IntentionsEntry, type SourceIntention } from '../connect/intentions.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed, entContext } from './acl-enforce.ts';
import {
  canReadIntention, denied, INTENTION_NOT_FOUND, INTENTIONS_KIND, writeIntentions, type IntentionSettings,
} from './intentions.ts';

/** A legacy intention body (structs.Intention as the ID-based routes read it). */
export interface LegacyIntentionInput {
  ID?: string;
  /** Namespaces (Consul Enterprise; empty: the request's, else default). */
  SourceNS?: string;
  SourceName?: string;
  DestinationNS?: string;
  DestinationName?: string;
  SourceType?: string;
  Action?: string;
  Permissions?: unknown[] | null;
  Description?: string;
  Meta?: Record<string, string> | null;
}

const META_VALUE_MAX = 512;

/** Intention.Validate (legacy writes) in Go's multierror text, or null. */
export function validateLegacyIntention(x: LegacyIntentionInput): string | null {
  const errs: string[] = [];
  const src = x.SourceName ?? '';
  const dst = x.DestinationName ?? '';
  const srcNs = x.SourceNS || DEFAULT_TENANCY_NAME;
  const dstNs = x.DestinationNS || DEFAULT_TENANCY_NAME;
  if (src === '') errs.push('SourceName must be set');
  if (dst === '') errs.push('DestinationName must be set');
  if (srcNs !== WILDCARD && srcNs.includes(WILDCARD)) errs.push("SourceNS: wildcard character '*' cannot be used with partial values");
  if (src !== WILDCARD && src.includes(WILDCARD)) errs.push("SourceName: wildcard character '*' cannot be used with partial values");
  if (src !== WILDCARD && srcNs === WILDCARD) errs.push('SourceName: exact value cannot follow wildcard namespace');
  if (dstNs !== WILDCARD && dstNs.includes(WILDCARD)) errs.push("DestinationNS: wildcard character '*' cannot be used with partial values");
  if (dst !== WILDCARD && dst.includes(WILDCARD)) errs.push("DestinationName: wildcard character '*' cannot be used with partial values");
  if (dst !== WILDCARD && dstNs === WILDCARD) errs.push('DestinationName: exact value cannot follow wildcard namespace');
  if ((x.Description ?? '').length > META_VALUE_MAX) errs.push(`Description exceeds maximum length ${META_VALUE_MAX}`);
  const meta = x.Meta ?? {};
  if (Object.keys(meta).length > 64) errs.push('Meta exceeds maximum element count 64');
  for (const [k, v] of Object.entries(meta)) {
    if (k.length > 128) errs.push(`Meta key ${JSON.stringify(k)} exceeds maximum length 128`);
    if (String(v).length > META_VALUE_MAX) errs.push(`Meta value for key ${JSON.stringify(k)} exceeds maximum length ${META_VALUE_MAX}`);
  }
  if (x.Action !== 'allow' && x.Action !== 'deny') errs.push("Action must be set to 'allow' or 'deny'");
  if (x.SourceType !== 'consul') errs.push("SourceType must be set to 'consul'");
  if (errs.length === 0) return null;
  return `${errs.length} error${errs.length === 1 ? '' : 's'} occurred:\n${errs.map((e) => `\t* ${e}`).join('\n')}\n\n`;
}

/** checkLegacyIntentionApplyAllowed: every source of the destination's entry must have a LegacyID. */
function checkLegacyAllowed(cur: ConfigEntry | undefined): void {
  const sources = (cur?.Sources as SourceIntention[] | null | undefined) ?? [];
  if (cur && sources.some((s) => !s.LegacyID)) {
    throw new InternalError(`cannot use legacy intention API to edit intentions with a destination of ${JSON.stringify(cur.Name)} after editing them via a service-intentions config entry`);
  }
}

/** The legacy source a validated input becomes, stamped with `now` (ToSourceIntention(true)). */
function legacySource(x: LegacyIntentionInput, id: string, now: string): SourceIntention {
  const s: SourceIntention = { Name: x.SourceName ?? '', Type: x.SourceType ?? 'consul', LegacyID: id };
  // Normalized as a config entry write is (stored only when not default; the destination's when empty).
  s.Namespace = x.SourceNS || DEFAULT_TENANCY_NAME;
  if (x.Action) s.Action = x.Action;
  if (x.Permissions?.length) s.Permissions = x.Permissions;
  if (x.Description) s.Description = x.Description;
  s.LegacyMeta = x.Meta ?? {};
  s.LegacyCreateTime = now;
  s.LegacyUpdateTime = now;
  return s;
}

/** The tenant of a legacy intention's destination (its DestinationNS in the default partition; undefined: default). */
function destinationEnt(x: LegacyIntentionInput): EnterpriseMeta | undefined {
  const ent = { partition: DEFAULT_TENANCY_NAME, namespace: x.DestinationNS || DEFAULT_TENANCY_NAME };
  return isDefaultEnt(ent) ? undefined : ent;
}

/** The ID-based (deprecated) intention operations. */
export class LegacyIntentionEndpoint {
  readonly #deps: EndpointDeps;
  readonly #s: IntentionSettings;

  constructor(deps: EndpointDeps, settings: IntentionSettings = { connectEnabled: true }) {
    this.#deps = deps;
    this.#s = settings;
  }

  #enabled(): void {
    if (!this.#s.connectEnabled) throw new InternalError('Connect must be enabled in order to use this endpoint');
  }

  #now(): string {
    return new Date(this.#deps.clock.now()).toISOString();
  }

  /** The intention with a LegacyID (IDs are unique across namespaces), the entry holding it and its tenant. */
  #find(id: string): { entry: IntentionsEntry; ixn: Intention; ent: EnterpriseMeta | undefined } | undefined {
    if (id === '') return undefined;
    for (const { ent, table } of allConfigEntryTables(this.#deps.replica)) {
      for (const e of table.list(INTENTIONS_KIND) as unknown as IntentionsEntry[]) {
        const src = (e.Sources ?? []).find((s) => s.LegacyID === id);
        if (src) return { entry: e, ixn: toIntention(e, src), ent };
      }
    }
    return undefined;
  }

  /** Creates an intention with a new ID (computeApplyChangesLegacyCreate); returns the ID. */
  async create(x: LegacyIntentionInput, authz?: AclIdentity): Promise<string> {
    this.#enabled();
    const dst = destinationEnt(x);
    if (!allowed(authz, 'intentionWrite', x.DestinationName ?? '', entContext(dst)) || !x.DestinationName) throw denied();
    if (x.ID) throw new InternalError('ID must be empty when creating a new intention');
    const input = { ...x, SourceType: x.SourceType || 'consul' };
    const err = validateLegacyIntention(input);
    if (err) throw new InternalError(err);
    const id = randomUUID();
    const src = legacySource(input, id, this.#now());
    await writeIntentions(this.#deps, x.DestinationName, true, (cur) => {
      checkLegacyAllowed(cur);
      return [...((cur?.Sources as SourceIntention[] | null) ?? []), src];
    }, dst);
    return id;
  }

  /** Replaces the intention `id` (computeApplyChangesLegacyUpdate); its destination cannot change. */
  async update(id: string, x: LegacyIntentionInput, authz?: AclIdentity): Promise<string> {
    this.#enabled();
    const found = this.#find(id);
    if (!found) throw new InternalError(`Cannot modify non-existent intention: '${id}'`);
    if (!allowed(authz, 'intentionWrite', found.ixn.DestinationName, entContext(found.ent))) throw denied();
    if ((x.DestinationName ?? '') !== found.ixn.DestinationName || (x.DestinationNS || DEFAULT_TENANCY_NAME) !== found.ixn.DestinationNS) {
      throw new InternalError('Cannot modify Destination partition/namespace/name for an intention once it exists.');
    }
    const input = { ...x, SourceType: x.SourceType || 'consul' };
    const err = validateLegacyIntention(input);
    if (err) throw new InternalError(err);
    const src = legacySource(input, id, this.#now());
    await writeIntentions(this.#deps, found.ixn.DestinationName, true, (cur) => {
      checkLegacyAllowed(cur);
      const sources = [...((cur?.Sources as SourceIntention[] | null) ?? [])];
      const at = sources.findIndex((s) => s.LegacyID === id);
      if (at < 0) throw new InternalError(`Cannot modify non-existent intention: '${id}'`);
      // UpdateOver: the creation time is always kept.
      sources[at] = { ...src, LegacyCreateTime: sources[at].LegacyCreateTime ?? src.LegacyCreateTime };
      return sources;
    }, found.ent);
    return id;
  }

  /** Deletes the intention `id` (computeApplyChangesLegacyDelete). */
  async delete(id: string, authz?: AclIdentity): Promise<void> {
    this.#enabled();
    const found = this.#find(id);
    if (!found) throw new InternalError(`Cannot delete non-existent intention: '${id}'`);
    if (!allowed(authz, 'intentionWrite', found.ixn.DestinationName, entContext(found.ent))) throw denied();
    await writeIntentions(this.#deps, found.ixn.DestinationName, true, (cur) => {
      checkLegacyAllowed(cur);
      const sources = (cur?.Sources as SourceIntention[] | null) ?? [];
      const kept = sources.filter((s) => s.LegacyID !== id);
      if (kept.length === sources.length) throw new InternalError(`Cannot delete non-existent intention: '${id}'`);
      return kept;
    }, found.ent);
  }

  /** The intention with ID `id` (Intention.Get by ID); 404 when absent, bare 403 when unreadable. */
  get(id: string, opts: QueryOptions): Promise<QueryResult<Intention>> {
    this.#enabled();
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addPrefix(CONFIG_ENTRIES_TABLE, `${INTENTIONS_KIND}/`);
      // The intention may be in any namespace: every tenant's table, and a new namespace's.
      let index = 1;
      const tables = allConfigEntryTables(this.#deps.replica);
      if (tables.length > 1) ws.addTable(NAMESPACES_TABLE);
      for (const { ent, table } of tables) {
        if (ent) ws.addPrefix(configEntriesTableName(ent), `${INTENTIONS_KIND}/`);
        index = Math.max(index, table.index);
      }
      const found = this.#find(id);
      if (!found) throw new NotFoundError(INTENTION_NOT_FOUND);
      if (!canReadIntention(opts.authz, found.ixn)) throw denied();
      return { index, value: found.ixn };
    });
  }
}
