// Snapshot and restore of an etcd namespace in the shared snapshot format. A snapshot is one
// range read at one revision; a restore re-grants the leases, then in ONE etcd txn deletes the
// live generation, writes every key under the next generation and flips the meta key, so
// readers and watchers see the swap at a single revision with fresh create revisions.
import type { Etcd3, IRequestOp, ITxnRequest } from 'etcd3';
import { readSnapshot, writeSnapshot } from '../snapshot.ts';
import { storeError } from './errors.ts';
import { Keyspace } from './keyspace.ts';
import type { EtcdLeases } from './lease.ts';
import type { Pinned } from './overlap.ts';

/** Reads the live generation at one revision and encodes it with the TTLs of its leases. */
export async function snapshotNamespace(
  ks: Keyspace, read: (build: () => ITxnRequest) => Promise<Pinned>, leases: EtcdLeases,
): Promise<AsyncIterable<Uint8Array>> {
  const { revision, inner } = await read(() => ({ success: [{ request_range: ks.range('') }] }));
  const kvs = inner.responses[0].response_range.kvs.map((kv) => ks.kv(kv));
  const ttls: { id: number; ttlSeconds: number }[] = [];
  for (const id of new Set(kvs.map((kv) => kv.lease).filter((l) => l !== 0))) {
    // A lease that expired since the read still goes in: its keys were live at `revision`.
    ttls.push({ id, ttlSeconds: (await leases.grantedTtl(id)) ?? 1 });
  }
  return writeSnapshot(revision, kvs, ttls);
}

async function grantAll(leases: EtcdLeases, wanted: { id: number; ttlSeconds: number }[]): Promise<Map<number, number>> {
  const mapping = new Map<number, number>();
  try {
    for (const l of wanted) mapping.set(l.id, (await leases.grant(l.ttlSeconds)).id);
  } catch (err) {
    await revokeAll(leases, mapping);
    throw err;
  }
  return mapping;
}

async function revokeAll(leases: EtcdLeases, mapping: Map<number, number>): Promise<void> {
  for (const id of mapping.values()) await leases.revoke(id).catch(() => undefined);
}

/** Replaces the namespace with a snapshot atomically; returns the Store revision of the swap. */
export async function restoreNamespace(ks: Keyspace, client: Etcd3, leases: EtcdLeases, stream: AsyncIterable<Uint8Array>): Promise<number> {
  const data = await readSnapshot(stream);
  const mapping = await grantAll(leases, data.leases);
  try {
    for (;;) {
      const next = ks.gen + 1;
      const success: IRequestOp[] = [
        { request_delete_range: ks.range('') },
        ...data.kvs.map((kv) => ({ request_put: {
          key: ks.physical(kv.key, next), value: Buffer.from(kv.value), lease: kv.lease ? (mapping.get(kv.lease) ?? 0) : 0,
        } })),
        { request_put: { key: ks.metaKey, value: Buffer.from(JSON.stringify({ gen: next })) } },
      ];
      const res = await client.kv.txn({
        compare: [{ key: ks.metaKey, target: 'Mod', result: 'Equal', mod_revision: ks.metaMod }],
        success,
        failure: [{ request_range: { key: ks.metaKey } }],
      });
      if (res.succeeded) {
        ks.gen = next;
        ks.metaMod = Number(res.header.revision);
        return ks.rev(res.header.revision);
      }
      // Another server restored first: restore on top of its generation.
      const meta = res.responses[0].response_range.kvs[0];
      ks.metaMod = Number(meta.mod_revision);
      ks.gen = Keyspace.parseMeta(meta.value).gen;
    }
  } catch (err) {
    await revokeAll(leases, mapping);
    throw storeError(err, 'snapshot restore');
  }
}
