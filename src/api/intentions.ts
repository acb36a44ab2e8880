// The intentions area of the client (Consul api's Connect intention methods): exact by-name
// reads and writes, the deprecated ID-based ones, list, match and check.
import { ApiError } from './errors.ts';
import type { ApiResponse, CallOptions, ConsulClient, QueryOptions } from './client.ts';

/** An intention as Consul's API renders it. */
export interface Intention {
  ID?: string;
  Description?: string;
  SourcePeer?: string;
  SourceNS?: string;
  SourcePartition?: string;
  SourceName: string;
  DestinationNS?: string;
  DestinationPartition?: string;
  DestinationName: string;
  SourceType?: string;
  Action?: string;
  Permissions?: unknown[];
  Meta?: Record<string, string>;
  Precedence?: number;
  CreatedAt?: string;
  UpdatedAt?: string;
  CreateIndex?: number;
  ModifyIndex?: number;
}

/** api.Intention's JSON field names: what Consul's Go client (and its CLI's `-file`) decodes and sends. */
export const INTENTION_API_FIELDS: readonly string[] = [
  'ID', 'Description', 'SourceNS', 'SourceName', 'DestinationNS', 'DestinationName', 'SourcePartition', 'DestinationPartition',
  'SourcePeer', 'SourceSamenessGroup', 'SourceType', 'Action', 'Permissions', 'DefaultAddr', 'DefaultPort', 'Meta', 'Precedence',
  'CreatedAt', 'UpdatedAt', 'Hash', 'CreateIndex', 'ModifyIndex',
];

const notFoundIsNull = <T>(p: Promise<ApiResponse<T>>): Promise<T | null> =>
  p.then((r) => r.data, (err: unknown) => {
    if (err instanceof ApiError && err.statusCode === 404) return null;
    throw err;
  });

/** Go api's maybePrefixNamespaceAndPartition: `name`, `ns/name` or `partition/ns/name` as the exact endpoints take them. */
function prefixed(partition: string | undefined, ns: string | undefined, name: string): string {
  if (!partition) return ns ? `${ns}/${name}` : name;
  return `${partition}/${ns || 'default'}/${name}`;
}

/** Client for `/v1/connect/intentions`. */
export class IntentionsApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** Every intention, in precedence order. */
  list(options?: QueryOptions & { filter?: string }): Promise<ApiResponse<Intention[]>> {
    return this.#c.json<Intention[]>({ method: 'GET', path: '/v1/connect/intentions', query: { filter: options?.filter || undefined }, options });
  }

  /** The intention from `source` to `destination`, or null (IntentionGetExact). */
  getExact(source: string, destination: string, options?: QueryOptions): Promise<Intention | null> {
    return notFoundIsNull(this.#c.json<Intention>({ method: 'GET', path: '/v1/connect/intentions/exact', query: { source, destination }, options }));
  }

  /** The intention with a legacy ID, or null (deprecated IntentionGet). */
  get(id: string, options?: QueryOptions): Promise<Intention | null> {
    return notFoundIsNull(this.#c.json<Intention>({ method: 'GET', path: `/v1/connect/intentions/${encodeURIComponent(id)}`, options }));
  }

  /** Creates or replaces the intention named by its source and destination (IntentionUpsert). */
  async upsert(ixn: Intention, options?: CallOptions): Promise<void> {
    const query = {
      source: prefixed(ixn.SourcePartition, ixn.SourceNS, ixn.SourceName),
      destination: prefixed(ixn.DestinationPartition, ixn.DestinationNS, ixn.DestinationName),
    };
    await this.#c.request({ method: 'PUT', path: '/v1/connect/intentions/exact', query, json: ixn, options });
  }

  /** Creates a legacy intention; its new ID (deprecated IntentionCreate). */
  async create(ixn: Intention, options?: CallOptions): Promise<string> {
    return (await this.#c.json<{ ID: string }>({ method: 'POST', path: '/v1/connect/intentions', json: ixn, options })).data.ID;
  }

  /** Replaces the legacy intention `ixn.ID` (deprecated IntentionUpdate). */
  async update(ixn: Intention, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'PUT', path: `/v1/connect/intentions/${encodeURIComponent(ixn.ID ?? '')}`, json: ixn, options });
  }

  /** Deletes the intention from `source` to `destination` (idempotent). */
  async deleteExact(source: string, destination: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'DELETE', path: '/v1/connect/intentions/exact', query: { source, destination }, options });
  }

  /** Deletes the legacy intention `id` (deprecated IntentionDelete). */
  async delete(id: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'DELETE', path: `/v1/connect/intentions/${encodeURIComponent(id)}`, options });
  }

  /** The intentions matching each name, by source or destination, in evaluation order. */
  match(by: 'source' | 'destination', names: string[], options?: QueryOptions): Promise<ApiResponse<Record<string, Intention[]>>> {
    return this.#c.json<Record<string, Intention[]>>({ method: 'GET', path: '/v1/connect/intentions/match', query: { by, name: names }, options });
  }

  /** Whether a connection from `source` to `destination` is allowed. */
  async check(source: string, destination: string, options?: QueryOptions): Promise<boolean> {
    const query = { source, destination, 'source-type': 'consul' };
    return (await this.#c.json<{ Allowed: boolean }>({ method: 'GET', path: '/v1/connect/intentions/check', query, options })).data.Allowed;
  }
}

/** api.Intention.String(): `src => dst (action)`, namespaces shown only when not default. */
export function intentionString(ixn: Intention): string {
  const part = (ns: string | undefined, n: string) => (ns && ns !== 'default' ? `${ns}/${n}` : n);
  return `${part(ixn.SourceNS, ixn.SourceName)} => ${part(ixn.DestinationNS, ixn.DestinationName)} (${ixn.Action ?? ''})`;
}
