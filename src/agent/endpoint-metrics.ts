// Consul's per-RPC metrics on the server's endpoints: the write timers (catalog.register,
// txn.apply, session.apply, intention.apply, prepared-query.*) and the service lookup counters
// (catalog.service.query, health.service.query and their -tag, -tags and not-found forms, `connect`
// in place of `service` for mesh lookups). Each wraps the endpoint instance's method once, before
// the transports take the endpoints; a failed call is timed too, as Consul's deferred MeasureSince.
import { performance } from 'node:perf_hooks';
import type { Telemetry } from '../telemetry/metrics.ts';
import type { CatalogFilters } from '../endpoint/catalog.ts';
import type { QueryResult } from '../endpoint/query.ts';
import type { Endpoints } from './server.ts';
import type { IntentionEndpoint } from '../endpoint/intentions.ts';
import type { LegacyIntentionEndpoint } from '../endpoint/intentions-legacy.ts';

type AnyFn = (...args: never[]) => Promise<unknown>;

/**
 * Replaces `obj[method]` with a version recording its duration in ms; a synchronous throw is timed
 * and answered as a rejection, as from an async function. Not an async function itself: its frame,
 * await and bound call were ≈0.7 KB of garbage per catalog registration. The caller gets the
 * method's own promise, timed beside it (one reaction, recorded before the caller's continues):
 * no promise in between for the answer to pass through.
 */
export function measure<T extends object, K extends keyof T>(obj: T, method: K, record: (ms: number) => void): void {
  const orig = obj[method] as AnyFn;
  (obj as Record<K, unknown>)[method] = (...args: never[]) => {
    const t0 = performance.now();
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(orig.apply(obj, args));
    } catch (err) {
      record(performance.now() - t0);
      return Promise.reject(err);
    }
    const timed = (): void => record(performance.now() - t0);
    result.then(timed, timed);
    return result;
  };
}

/** Times Consul's write RPCs and counts service lookups on the server's endpoints. */
export function measureEndpoints(t: Telemetry, ep: Pick<Endpoints, 'catalog' | 'health' | 'txn' | 'session' | 'query'>): void {
  const register = t.timer('catalog.register', 'Measures the time it takes to complete a catalog register operation.');
  const deregister = t.timer('catalog.deregister', 'Measures the time it takes to complete a catalog deregister operation.');
  measure(ep.catalog, 'register', register);
  measure(ep.catalog, 'deregister', deregister);
  measure(ep.txn, 'apply', t.timer('txn.apply', 'Measures the time spent applying a transaction operation.'));
  const session = t.timer('session.apply', 'Measures the time spent applying a session update.');
  measure(ep.session, 'create', session);
  measure(ep.session, 'destroy', session);
  measure(ep.session, 'renew', t.timer('session.renew', 'Measures the time spent renewing a session.'));
  const queryApply = t.timer('prepared-query.apply', 'Measures the time it takes to apply a prepared query update.');
  measure(ep.query, 'create', queryApply);
  measure(ep.query, 'update', queryApply);
  measure(ep.query, 'delete', queryApply);
  measure(ep.query, 'explain', t.timer('prepared-query.explain', 'Measures the time it takes to process a prepared query explain request.'));
  measure(ep.query, 'execute', t.timer('prepared-query.execute', 'Measures the time it takes to process a prepared query execute request.'));
  measure(ep.query, 'executeRemote', t.timer('prepared-query.execute_remote', 'Measures the time it takes to process a prepared query execute request that was forwarded to another datacenter.'));
  countLookups(t, 'catalog', ep.catalog);
  countLookups(t, 'health', ep.health);
}

/**
 * Consul's intention.apply timer, registered now; the returned function times the intention
 * endpoints' writes once they are built (on the first intentions request).
 */
export function intentionMetrics(t: Telemetry): (ixns: IntentionEndpoint, legacy: LegacyIntentionEndpoint) => void {
  const intention = t.timer('intention.apply', 'Measures the time spent applying an intention operation.');
  return (ixns, legacy) => {
    measure(ixns, 'upsert', intention);
    measure(ixns, 'deleteExact', intention);
    for (const m of ['create', 'update', 'delete'] as const) measure(legacy, m, intention);
  };
}

/** Consul's lookup counters of Catalog.ServiceNodes / Health.ServiceNodes, counted on success. */
function countLookups(t: Telemetry, area: 'catalog' | 'health', endpoint: { service(name: string, opts: never, f?: CatalogFilters): Promise<QueryResult<unknown[]>> }): void {
  const counters = (key: 'service' | 'connect') => ({
    query: t.labeledCounter(`${area}.${key}.query`, `Increments for each ${area} query for the given service.`, ['service']),
    tags: t.labeledCounter(`${area}.${key}.query-tags`, `Increments for each ${area} query for the given service with the given tags.`, ['service', 'tag']),
    notFound: t.labeledCounter(`${area}.${key}.not-found`, `Increments for each ${area} query where the given service could not be found.`, ['service']),
  });
  const plain = counters('service');
  const mesh = counters('connect');
  const orig = endpoint.service.bind(endpoint);
  endpoint.service = async (name, opts, f = {}) => {
    const res = await orig(name, opts, f);
    const c = f.connect ? mesh : plain;
    const service = { service: name };
    c.query(service);
    const tags = f.tags;
    // Consul's HTTP API sends ?tag values as ServiceTags: the -tags counter, the tags sorted; one
    // Prometheus label cannot repeat, so several tags are joined with commas.
    if (tags && tags.length > 0) c.tags({ service: name, tag: tags.length === 1 ? tags[0] : [...tags].sort().join(',') });
    if (res.value.length === 0) c.notFound(service);
    return res;
  };
}
