// Evaluating a transaction's compare against a key's current entry, as etcd's Txn compares do.
import type { Compare } from './store.ts';
import type { Entry } from './engine.ts';

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Whether a compare holds; `value` is the key's value, read only for value compares on a present key. */
export function holds(c: Compare, kv: Entry | undefined, value: Uint8Array | null): boolean {
  let cmp: number;
  if (c.target === 'value') {
    if (!kv) return false;
    cmp = compareBytes(value!, c.value as Uint8Array);
  } else {
    const actual = kv ? kv[c.target] : 0;
    cmp = actual - (c.value as number);
  }
  switch (c.op) {
    case '=': return cmp === 0;
    case '!=': return cmp !== 0;
    case '<': return cmp < 0;
    case '>': return cmp > 0;
  }
}
