// User events (Consul's api.Event): fire one through the agent's gossip pool, list recent ones.

import type { CallOptions, ConsulClient } from './client.ts';

/** Consul's IDToIndex: the XOR of the event UUID's two 64-bit halves (may exceed 2^53). */
export function eventIdToIndex(id: string): bigint {
  const hex = id.replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return 0n;
  return BigInt(`0x${hex.slice(0, 16)}`) ^ BigInt(`0x${hex.slice(16, 32)}`);
}

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

  /**
   * A blocking list: waits while the last event's index is still `index` (0 = answer at once).
   * The index is the XOR of the last event ID's halves, kept as a BigInt end to end.
   */
  async listBlocking(name: string | undefined, options: CallOptions & { index?: bigint; wait?: number | string } = {}): Promise<{ data: UserEventInfo[]; index: bigint }> {
    const { index, ...rest } = options;
    const res = await this.#c.request({
      method: 'GET', path: '/v1/event/list', query: { name: name || undefined, index: index ? index.toString() : undefined }, options: rest,
    });
    const raw = res.headers['x-consul-index'];
    const header = (Array.isArray(raw) ? raw[0] : raw) ?? '';
    return { data: JSON.parse(res.body.toString('utf8')) as UserEventInfo[], index: /^\d+$/.test(header) ? BigInt(header) : 0n };
  }
}
