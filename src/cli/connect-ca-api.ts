// The CA configuration calls the `connect ca` commands make (Consul's api.Connect CAGetConfig and
// CASetConfig), and the configuration as Go's api.CAConfig reads and writes it.
import type { ConsulClient } from '../api/index.ts';

/** Consul's api.CAConfig, fields in its order. */
export interface CAConfig {
  Provider: string;
  Config: Record<string, unknown> | null;
  State: Record<string, string> | null;
  ForceWithoutCrossSigning: boolean;
  CreateIndex: number;
  ModifyIndex: number;
}

/** GET /v1/connect/ca/configuration. */
export async function caGetConfig(c: ConsulClient, stale: boolean): Promise<CAConfig> {
  return (await c.json<CAConfig>({ method: 'GET', path: '/v1/connect/ca/configuration', options: { stale } })).data;
}

/** PUT /v1/connect/ca/configuration. */
export async function caSetConfig(c: ConsulClient, cfg: CAConfig): Promise<void> {
  await c.request({ method: 'PUT', path: '/v1/connect/ca/configuration', json: cfg });
}

/**
 * The configuration as Go's encoding/json fills an api.CAConfig from `value` (field names matched
 * ignoring case, wrong types refused with Go's message), `null` leaving it empty.
 */
export function decodeCAConfig(value: unknown): CAConfig {
  const cfg: CAConfig = { Provider: '', Config: null, State: null, ForceWithoutCrossSigning: false, CreateIndex: 0, ModifyIndex: 0 };
  if (value === null) return cfg;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`json: cannot unmarshal ${kind(value)} into Go value of type api.CAConfig`);
  const refuse = (field: string, v: unknown, goType: string): never => {
    throw new Error(`json: cannot unmarshal ${kind(v)} into Go struct field CAConfig.${field} of type ${goType}`);
  };
  const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const types: Record<keyof CAConfig, [string, (v: unknown) => boolean]> = {
    Provider: ['string', (v) => typeof v === 'string'],
    Config: ['map[string]interface {}', isMap],
    State: ['map[string]string', isMap],
    ForceWithoutCrossSigning: ['bool', (v) => typeof v === 'boolean'],
    CreateIndex: ['uint64', (v) => Number.isSafeInteger(v) && (v as number) >= 0],
    ModifyIndex: ['uint64', (v) => Number.isSafeInteger(v) && (v as number) >= 0],
  };
  const out = cfg as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) {
    const field = (Object.keys(types) as (keyof CAConfig)[]).find((f) => f.toLowerCase() === k.toLowerCase());
    if (!field || v === null) continue;
    const [goType, ok] = types[field];
    if (!ok(v)) refuse(field, v, goType);
    if (field === 'State') {
      const bad = Object.values(v as object).find((s) => typeof s !== 'string' && s !== null);
      if (bad !== undefined) refuse('State', bad, 'string');
    }
    out[field] = v;
  }
  return cfg;
}

function kind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** `value` with every object's keys sorted, as Go writes a map. */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]));
}
