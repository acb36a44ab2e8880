// The data both sides of the KV bench write: 256-byte values unique per operation, a fixed key
// set, and a prefill that pushes a store past its watch-history limit so every cell runs in
// the regime a long-running agent is in.
import { encodeKV } from '../../src/state/kvs.ts';
import type { Store } from '../../src/store/index.ts';

/** Value size in bytes. */
export const VALUE_SIZE = 256;
/** Keys cycled through; more than any concurrency so in-flight writes never hit the same key. */
export const KEYS = 4096;

const BASE = Buffer.alloc(VALUE_SIZE, 'proconsul-bench-value-');

/** A 256-byte value unique to `i`, so no PUT is skipped as a no-op rewrite. */
export function value(i: number): Buffer {
  const b = Buffer.from(BASE);
  b.write(String(i).padStart(16, '0'), 0, 'latin1');
  return b;
}

/** The stored record of `value(i)`, as the KV endpoint encodes it under `kv/<key>`. */
export function record(i: number): Uint8Array {
  return encodeKV({ Flags: 0n, LockIndex: 0, Session: '', Value: value(i) });
}

/** The store key of operation `i`. */
export function storeKey(i: number): string {
  return `kv/k${i % KEYS}`;
}

/** Writes max(n, KEYS) single-put txns (64 in flight) so every key exists; returns the last revision. */
export async function prefill(store: Store, n: number): Promise<number> {
  const total = Math.max(n, KEYS);
  let next = 0;
  let last = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const res = await store.txn({ success: [{ type: 'put', key: storeKey(i), value: record(i) }] });
      last = Math.max(last, res.revision);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return last;
}
