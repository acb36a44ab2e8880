// JSON for Consul's uint64 fields (KV Flags): parse integers above 2^53 as exact BigInts from
// their source text, and write BigInts back as raw JSON numbers.

/** JSON.parse that keeps integers beyond 2^53 exact (as BigInt). */
export function parseJSONExact<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown, ctx?: { source?: string }) =>
    (typeof v === 'number' && !Number.isSafeInteger(v) && ctx?.source && /^\d+$/.test(ctx.source) ? BigInt(ctx.source) : v)) as T;
}

/** JSON.stringify replacer writing BigInts as plain JSON numbers. */
export function bigintReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? JSON.rawJSON(v.toString()) : v;
}
