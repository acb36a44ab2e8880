// The namespace and partition a request names (`?ns`, `?partition`, X-Consul-Namespace,
// X-Consul-Partition) for handlers converted to tenancy. Handlers not converted keep Consul CE's
// 400 (request.ts checkTenancy): each tenancy slice moves its handlers over.
import { BadRequestError } from '../errors.ts';
import { DEFAULT_TENANCY_NAME, WILDCARD_NAMESPACE, foldTenancyName, validTenancyName, type EnterpriseMeta } from '../state/index.ts';
import { resolveEnt, type AclIdentity, type EntFields } from '../endpoint/index.ts';
import type { HttpRequest, RequestConfig } from './request.ts';

/**
 * What a handler reads, as Consul Enterprise's parsers do: `namespace` (parseEntMeta: namespace
 * and partition, `ns=*` allowed), `namespace-no-wildcard` (parseEntMetaNoWildcard), `partition`
 * (parseEntMetaPartition: the partition only; a namespace given is not read).
 */
export type TenancyMode = 'namespace' | 'namespace-no-wildcard' | 'partition';

/** The tenancy a request names: '' where it names none (`default`, in any case, reads as `default`). */
export interface EntInput extends EntFields {
  namespace: string;
  partition: string;
  /** The request gave a namespace or partition at all (`default` included): answers then show Consul Enterprise's fields. */
  explicit: boolean;
}

const NAMESPACE = { param: 'ns', header: 'x-consul-namespace', what: 'namespace' } as const;
const PARTITION = { param: 'partition', header: 'x-consul-partition', what: 'partition' } as const;

/** What a request naming no tenant gives (shared: never modified). */
const NOTHING_NAMED: EntInput = Object.freeze({ namespace: '', partition: '', explicit: false });

/** Reads the request's namespace and partition for `mode`; the query parameter wins over the header. */
export function entInput(req: HttpRequest, mode: TenancyMode): EntInput {
  const ap = given(req, PARTITION);
  const ns = mode === 'partition' ? null : given(req, NAMESPACE);
  // Most requests name none: no object for them (discovery reads run this per request).
  if (ap === null && ns === null) return NOTHING_NAMED;
  return {
    namespace: ns === null ? '' : checked(ns, NAMESPACE, mode === 'namespace'),
    partition: ap === null ? '' : checked(ap, PARTITION, false),
    explicit: ns !== null || ap !== null,
  };
}

/** The tenant a converted handler acts in: the body's fields, then the request's, the agent's partition, the token's scope. */
export function requestEnt(req: HttpRequest, cfg: RequestConfig, mode: TenancyMode, authz: AclIdentity | undefined, body?: EntFields): EnterpriseMeta {
  return resolveEnt({ body, request: entInput(req, mode), agentPartition: cfg.partition, token: authz?.ent, peer: !!req.query.get('peer') });
}

type Source = typeof NAMESPACE | typeof PARTITION;

/** The query parameter if non-empty, else the header if non-empty; null when neither is. */
function given(req: HttpRequest, s: Source): string | null {
  const q = req.query.get(s.param);
  if (q) return q;
  const h = req.headers[s.header];
  return typeof h === 'string' && h !== '' ? h : null;
}

/**
 * A given name, checked: `default` (any case) is `default`, which then wins over the agent's
 * partition and the token's scope as any other name does (Consul's EnterpriseMeta.Merge fills only
 * empty fields: a namespaced token asking for `ns=default` acts in the default namespace); `*`
 * only where allowed; else a DNS label.
 */
function checked(value: string, s: Source, wildcard: boolean): string {
  if (foldTenancyName(value) === DEFAULT_TENANCY_NAME) return DEFAULT_TENANCY_NAME;
  if (value === WILDCARD_NAMESPACE && s === NAMESPACE) {
    if (wildcard) return value;
    throw new BadRequestError('Invalid namespace: wildcard "*" is not allowed for this request');
  }
  if (!validTenancyName(value)) throw new BadRequestError(`Invalid ${s.what} name ${JSON.stringify(value)}: must be a valid DNS hostname label`);
  return value;
}

/**
 * A written object's own Namespace/Partition fields, checked as a request's are (`default` is
 * absent, names must be DNS labels, no wildcard); '' where not given.
 */
export function bodyEnt(fields: { namespace?: unknown; partition?: unknown }): EntFields {
  const one = (v: unknown, s: Source): string => (typeof v === 'string' && v !== '' ? checked(v, s, false) : '');
  return { namespace: one(fields.namespace, NAMESPACE), partition: one(fields.partition, PARTITION) };
}
