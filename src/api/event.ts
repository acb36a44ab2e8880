// User events (Consul's api.Event): fire one through the agent's gossip pool, list recent ones.

import type { CallOptions, ConsulClient } from './client.ts';

/** Consul's api.UserEvent; Payload is base64 in JSON. */
export interface UserEventInfo {
  ID: string;
  Name: string;
  Payload: string | null;
  NodeFilter: string;
  ServiceFilter: string;
  TagFilter: string;
  Version: number;
  LTime: number;
}

/** Filters of a fired event (regular expressions). */
export interface FireParams {
  node?: string;
  service?: string;
  tag?: string;
}

/** Client for `/v1/event`. */
export class EventApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** Fires an event; resolves with its ID. */
  async fire(name: string, payload: Buffer | string | null, filters: FireParams = {}, options?: CallOptions): Promise<string> {
    const query = { node: filters.node || undefined, service: filters.service || undefined, tag: filters.tag || undefined };
    const r = await this.#c.json<UserEventInfo>({
      method: 'PUT', path: `/v1/event/fire/${encodeURIComponent(name)}`, query, body: payload ?? undefined, options,
    });
    return r.data.ID;
  }

  /** Recent events this agent received, optionally by name. */
  async list(name?: string, options?: CallOptions): Promise<UserEventInfo[]> {
    return (await this.#c.json<UserEventInfo[]>({ method: 'GET', path: '/v1/event/list', query: { name }, options })).data;
  }
}
