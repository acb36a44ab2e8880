// JSON request bodies decoded like Consul's decoder: object keys match field names
// case-insensitively (python-consul sends lowercase keys), parse errors become 400s.
import { createRequire } from 'node:module';
import { BadRequestError } from '../errors.ts';

// Go's wording of a syntax error (go-json-syntax.ts) loads with the first malformed body, not at start (issue #9).
const require = createRequire(import.meta.url);

/**
 * Parses a JSON body; `what` prefixes the error as Consul does ("Request decode failed: …").
 * Integers past 2^53 come back as exact BigInts (for uint64 fields) unless `goInterface` is set:
 * bodies Consul decodes into a map[string]interface{}, where every number is a float64.
 */
export function parseJSON(body: Buffer, what = 'Request decode failed', goInterface = false): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  // A reviver costs a call per value; only a run of 16+ digits can be an integer beyond 2^53.
  const parse = (t: string) => (!goInterface && BIG_DIGITS.test(t) ? JSON.parse(t, keepBigIntegers) : JSON.parse(t));
  try {
    return parse(text);
  } catch (err) {
    // Go's wording for the error; and, as its Decoder reads only the first value, text after a complete one is ignored.
    const go = (require('./go-json-syntax.ts') as typeof import('./go-json-syntax.ts')).goJsonSyntax(text);
    if ('message' in go) throw new BadRequestError(`${what}: ${go.message}`);
    try {
      return parse(text.slice(0, go.end));
    } catch {
      throw new BadRequestError(`${what}: ${(err as Error).message}`);
    }
  }
}

const BIG_DIGITS = /\d{16}/;

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
  let known = spellings.get(fields);
  if (!known) spellings.set(fields, known = new Set(fields));
  const out: Record<string, unknown> = {};
  for (const k in obj) {
    if (!Object.hasOwn(obj, k)) continue;
    // Clients almost always send the canonical spelling: look for that before lower-casing.
    out[known.has(k) ? k : respell(k, fields)] = (obj as Record<string, unknown>)[k];
  }
  return out;
}

/**
 * canonical() for an object the caller owns outright (fresh from JSON.parse, referenced nowhere
 * else): when every key is already spelled canonically, as clients almost always send them, the
 * object itself is the answer (no copy); otherwise the canonical copy.
 */
export function canonicalOwned(obj: unknown, fields: readonly string[]): Record<string, unknown> {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return {};
  let known = spellings.get(fields);
  if (!known) spellings.set(fields, known = new Set(fields));
  // An own `__proto__` key (JSON.parse makes one) is never canonical, so the copy handles it as before.
  for (const k in obj) if (!known.has(k) || !Object.hasOwn(obj, k)) return canonical(obj, fields);
  return obj as Record<string, unknown>;
}

/** The canonical field names of each field list, as a set (one lookup per key instead of a scan). */
const spellings = new WeakMap<readonly string[], Set<string>>();

function respell(key: string, fields: readonly string[]): string {
  const lower = key.toLowerCase();
  for (const f of fields) if (f.toLowerCase() === lower) return f;
  return key;
}
