// Consul Enterprise's audit hash (POST /v1/operator/audit-hash): HMAC-SHA256 of an input under the
// cluster's audit salt, "hmac_sha256:<hex>". The salt is 32 random bytes made once, create-only, in
// the store (so every server answers alike and snapshots keep it).
import { createHmac, randomBytes } from 'node:crypto';
import type { Store } from '../store/index.ts';

/** Store key of the audit salt. */
export const AUDIT_SALT_KEY = 'audit/salt';

/** The cluster's audit salt, made on first use. */
async function auditSalt(store: Store): Promise<Uint8Array> {
  const kv = await store.get(AUDIT_SALT_KEY);
  if (kv) return kv.value;
  await store.txn({
    compares: [{ key: AUDIT_SALT_KEY, target: 'createRevision', op: '=', value: 0 }],
    success: [{ type: 'put', key: AUDIT_SALT_KEY, value: randomBytes(32) }],
  });
  // Another server may have made it first: its salt is the one.
  return (await store.get(AUDIT_SALT_KEY))!.value;
}

/** The audit hash of `input`. */
export async function auditHash(store: Store, input: string): Promise<string> {
  const salt = await auditSalt(store);
  return `hmac_sha256:${createHmac('sha256', salt).update(input, 'utf8').digest('hex')}`;
}
