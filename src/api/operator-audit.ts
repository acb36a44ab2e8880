// POST /v1/operator/audit-hash (Consul Enterprise): the audit log's hash of a string.
import type { CallOptions, ConsulClient } from './client.ts';

/** The "hmac_sha256:<hex>" hash of `input` under the cluster's audit salt. */
export async function auditHash(c: ConsulClient, input: string, options?: CallOptions): Promise<string> {
  return (await c.json<{ Hash: string }>({ method: 'POST', path: '/v1/operator/audit-hash', json: { Input: input }, options })).data.Hash;
}
