// JSON request bodies decoded like Consul's decoder: object keys match field names
// case-insensitively (python-consul sends lowercase keys), parse errors become 400s.
import { BadRequestError } from '../errors.ts';

/** Parses a JSON body; `what` prefixes the error as Consul does ("Request decode failed: …"). */
export function parseJSON(body: Buffer, what = 'Request decode failed'): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'), keepBigIntegers);
  } catch (err) {
    throw new BadRequestError(`${what}: ${(err as Error).message}`);
  }
}

// Integers beyond 2^53 (uint64 fields such as KV Flags) come back as exact BigInts.
function keepBigIntegers(_key: string, value: unknown, ctx?: { source?: string }): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && ctx?.source && /^\d+$/.test(ctx.source)) {
    return BigInt(ctx.source);
  }
  return value;
}

/** Renames keys of a plain object to the canonical spelling in `fields` (case-insensitive). */
export function canonical(obj: unknown, fields: readonly string[]): Record<string, unknown> {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return {};
  const byLower = new Map(fields.map((f) => [f.toLowerCase(), f]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[byLower.get(k.toLowerCase()) ?? k] = v;
  return out;
}
