// Namespace and partition records written straight to a test agent's store, as the
// /v1/namespace and /v1/partition endpoints write them (tests of tenancy in other tables).
import assert from 'node:assert/strict';
import { encodeRecord, namespaceKey, partitionKey } from '../../src/state/index.ts';
import type { Store } from '../../src/store/index.ts';

/** Writes the namespaces (`name` in the default partition, or `ap/name`) and partitions in one txn. */
export async function seedTenants(store: Store, namespaces: string[], partitions: string[] = []): Promise<void> {
  const res = await store.txn({ success: [
    ...partitions.map((ap) => ({ type: 'put' as const, key: partitionKey(ap), value: encodeRecord({ Name: ap }) })),
    ...namespaces.map((n) => {
      const [partition, namespace] = n.includes('/') ? n.split('/') as [string, string] : ['default', n];
      return { type: 'put' as const, key: namespaceKey({ partition, namespace }), value: encodeRecord({ Name: namespace }) };
    }),
  ] });
  assert.ok(res.succeeded);
}
