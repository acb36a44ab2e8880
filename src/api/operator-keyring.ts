// The gossip keyring calls (Consul's api.Operator Keyring*): list, install, use and remove
// keys across the pool through /v1/operator/keyring.

import type { CallOptions, ConsulClient } from './client.ts';

/** One pool's answer (Consul's api.KeyringResponse). */
export interface KeyringResponse {
  WAN: boolean;
  Datacenter: string;
  Segment: string;
  Partition?: string;
  Keys: Record<string, number>;
  PrimaryKeys: Record<string, number>;
  NumNodes: number;
  Messages: Record<string, string>;
}

/** Client for `/v1/operator/keyring`. */
export class OperatorKeyringApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** Keys installed across each pool; `localOnly` asks only the agent itself. */
  async list(opts: { localOnly?: boolean; relayFactor?: number } = {}, options?: CallOptions): Promise<KeyringResponse[]> {
    const query = { 'local-only': opts.localOnly ? 'true' : undefined, 'relay-factor': opts.relayFactor };
    return (await this.#c.json<KeyringResponse[]>({ method: 'GET', path: '/v1/operator/keyring', query, options })).data;
  }

  /** Installs a new key everywhere (it decrypts but does not encrypt yet). */
  install(key: string, options?: CallOptions): Promise<void> {
    return this.#op('POST', key, options);
  }

  /** Makes an installed key the primary everywhere. */
  use(key: string, options?: CallOptions): Promise<void> {
    return this.#op('PUT', key, options);
  }

  /** Removes a key everywhere (not the primary). */
  remove(key: string, options?: CallOptions): Promise<void> {
    return this.#op('DELETE', key, options);
  }

  async #op(method: 'POST' | 'PUT' | 'DELETE', key: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method, path: '/v1/operator/keyring', json: { Key: key }, options });
  }
}
