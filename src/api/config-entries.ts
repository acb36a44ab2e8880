// The config entry area of the client (Consul api's ConfigEntries): set, CAS, get, list and
// delete of `/v1/config`, plus the wire shape of a gateway's linked services.
import type { ApiResponse, CallOptions, ConsulClient, QueryOptions } from './client.ts';

/** A config entry: `Kind`, `Name` and the kind's fields, as Consul's JSON. */
export type ConfigEntryBody = Record<string, unknown> & { Kind: string; Name?: string };

/** A config entry read back, with its indexes. */
export type ConfigEntryRead = ConfigEntryBody & { CreateIndex: number; ModifyIndex: number };

/** Consul's ServiceName (CE: just the name). */
export interface ServiceNameRef {
  Name: string;
  /** Consul Enterprise's EnterpriseMeta of the name (answers in a namespace). */
  Namespace?: string;
  Partition?: string;
}

/** A service linked to an ingress or terminating gateway (Consul's structs.GatewayService). */
export interface GatewayService {
  Gateway: ServiceNameRef;
  Service: ServiceNameRef;
  GatewayKind: string;
  Port?: number;
  Protocol?: string;
  Hosts?: string[];
  CAFile?: string;
  CertFile?: string;
  KeyFile?: string;
  SNI?: string;
  FromWildcard?: boolean;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Client for `/v1/config`. */
export class ConfigEntriesApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** Creates or replaces an entry; true when written. */
  set(entry: ConfigEntryBody, options?: CallOptions): Promise<ApiResponse<boolean>> {
    return this.#c.json<boolean>({ method: 'PUT', path: '/v1/config', json: entry, options });
  }

  /** Writes an entry only if its ModifyIndex is `index` (0: only if absent). */
  cas(entry: ConfigEntryBody, index: number, options?: CallOptions): Promise<ApiResponse<boolean>> {
    return this.#c.json<boolean>({ method: 'PUT', path: '/v1/config', query: { cas: index }, json: entry, options });
  }

  /** Reads one entry; a missing one is an ApiError 404. */
  get(kind: string, name: string, options?: QueryOptions): Promise<ApiResponse<ConfigEntryRead>> {
    return this.#c.json<ConfigEntryRead>({ method: 'GET', path: `/v1/config/${seg(kind)}/${seg(name)}`, options });
  }

  /** Lists the entries of a kind, optionally with a bexpr filter. */
  list(kind: string, options?: QueryOptions & { filter?: string }): Promise<ApiResponse<ConfigEntryRead[]>> {
    return this.#c.json<ConfigEntryRead[]>({ method: 'GET', path: `/v1/config/${seg(kind)}`, query: { filter: options?.filter || undefined }, options });
  }

  /** Deletes an entry (no error when it does not exist). */
  async delete(kind: string, name: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'DELETE', path: `/v1/config/${seg(kind)}/${seg(name)}`, options });
  }

  /** Deletes an entry only if its ModifyIndex is `index`; true when deleted. */
  deleteCAS(kind: string, name: string, index: number, options?: CallOptions): Promise<ApiResponse<boolean>> {
    return this.#c.json<boolean>({ method: 'DELETE', path: `/v1/config/${seg(kind)}/${seg(name)}`, query: { cas: index }, options });
  }
}

function seg(s: string): string {
  return encodeURIComponent(s);
}
