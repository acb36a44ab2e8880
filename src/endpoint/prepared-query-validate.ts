// Validation of prepared query writes with Consul's texts: the request checks of
// PreparedQuery.Apply's parseQuery (session or name, redacted token, service, sameness group or
// failover, node meta, DNS TTL) and the state store's integrity checks (unique names, names that alias an ID,
// one empty-named template, an existing session, a template that compiles).
import { InternalError } from '../errors.ts';
import { goDurationError, parseGoDuration } from '../duration.ts';
import { sessionInTenant, type PreparedQueriesTable, type PreparedQueryRecord, type SessionsTable } from '../state/index.ts';
import { compileTemplate, isTemplate } from './prepared-query-template.ts';

/** The Token value the API shows in place of a query's token. */
export const REDACTED_TOKEN = '<hidden>';

const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i;
const META_KEY = /^[a-zA-Z0-9_-]+$/;

/** True when `s` is formatted like a UUID (Consul's isUUID). */
export function isUUID(s: string): boolean {
  return s.length === 36 && UUID.test(s);
}

function metaProblem(meta: Record<string, string> | null): string | undefined {
  if (!meta) return undefined;
  const entries = Object.entries(meta);
  if (entries.length > 64) return 'Node metadata cannot contain more than 64 key/value pairs';
  for (const [k, v] of entries) {
    let p: string | undefined;
    if (k === '') p = 'Key cannot be blank';
    else if (!META_KEY.test(k)) p = 'Key contains invalid characters';
    else if (k.length > 128) p = 'Key is too long (limit: 128 characters)';
    else if (v.length > 512) p = 'Value is too long (limit: 512 characters)';
    if (p) return `Couldn't load metadata pair ('${k}', '${v}'): ${p}`;
  }
  return undefined;
}

/** Consul's parseQuery: the problem with a create/update body, or undefined. */
export function queryProblem(q: PreparedQueryRecord): string | undefined {
  if (q.Name === '' && q.Template.Type === '' && q.Session === '') return 'Must be bound to a session';
  if (q.Token === REDACTED_TOKEN) return `Bad Token '${q.Token}', it looks like a query definition with a redacted token was submitted`;
  const svc = q.Service;
  if (svc.Service === '') return 'Must provide a Service name to query';
  const f = svc.Failover;
  // Consul Enterprise's parseSameness: the group's members are the failover targets.
  const failover = f.NearestN !== 0 || (f.Datacenters?.length ?? 0) !== 0 || (f.Targets?.length ?? 0) !== 0;
  if (svc.SamenessGroup && failover) return 'SamenessGroup and Failover are mutually exclusive';
  if (f.NearestN < 0) return `Bad NearestN '${f.NearestN}', must be >= 0`;
  if ((f.NearestN !== 0 || (f.Datacenters?.length ?? 0) !== 0) && (f.Targets?.length ?? 0) !== 0) return 'Targets cannot be populated with NearestN or Datacenters';
  const meta = metaProblem(svc.NodeMeta);
  if (meta) return meta;
  if (q.DNS.TTL !== '') {
    const ms = parseGoDuration(q.DNS.TTL);
    if (ms === null) return `Bad DNS TTL '${q.DNS.TTL}': ${goDurationError(q.DNS.TTL)}`;
    if (ms < 0) return `DNS TTL '${Math.round(ms * 1e6)}', must be >=0`;
  }
  return undefined;
}

/** Throws Consul's "Invalid prepared query" error for a bad body. */
export function validateQuery(q: PreparedQueryRecord): void {
  const p = queryProblem(q);
  if (p) throw new InternalError(`Invalid prepared query: ${p}`);
}

/** Consul's preparedQuerySetTxn integrity checks against the current table and sessions. */
export function checkIntegrity(q: PreparedQueryRecord, queries: PreparedQueriesTable, sessions: SessionsTable): void {
  if (q.Name !== '') {
    const other = queries.byName(q.Name);
    if (other && other.ID !== q.ID) throw new InternalError(`name '${q.Name}' aliases an existing query name`);
  } else if (isTemplate(q)) {
    const other = queries.all().find((o) => isTemplate(o) && o.Name === '');
    if (other && other.ID !== q.ID) throw new InternalError('a query template with an empty name already exists');
  }
  if (isUUID(q.Name) && queries.get(q.Name.toLowerCase())) throw new InternalError(`name '${q.Name}' aliases an existing query ID`);
  // Queries live in the default tenant: a session of a namespace is not found (its purge would leave the query bound).
  const s = q.Session !== '' ? sessions.get(q.Session) : undefined;
  if (q.Session !== '' && (!s || !sessionInTenant(s, undefined))) throw new InternalError(`invalid session ${JSON.stringify(q.Session)}`);
  if (isTemplate(q)) {
    try {
      compileTemplate(q);
    } catch (err) {
      throw new InternalError(`failed compiling template: ${(err as Error).message}`);
    }
  }
}
