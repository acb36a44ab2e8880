// The KV export/import format (command/kv/impexp): `{key, flags, value}` entries with base64
// values, Go's JSON rendering of them, and Go's strict base64 decoding of user-given data.

import type { KVPair } from '../api/index.ts';
import { bigintReplacer, parseJSONExact } from '../api/json.ts';

/** One exported key, as `consul kv export` writes it. */
export interface KVEntry {
  key: string;
  flags: number | bigint;
  value: string;
  namespace?: string;
  partition?: string;
}

/** Converts a pair to an export entry (null values become ""). */
export function toEntry(pair: KVPair): KVEntry {
  const e: KVEntry = { key: pair.Key, flags: pair.Flags, value: pair.Value ?? '' };
  if (pair.Namespace) e.namespace = pair.Namespace;
  if (pair.Partition) e.partition = pair.Partition;
  return e;
}

/** JSON as Go's json.MarshalIndent(v, "", "\t") writes it, HTML-safe escapes included. */
export function goJsonIndent(v: unknown, indent = '\t'): string {
  return JSON.stringify(v, bigintReplacer, indent).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Parses import data into entries, field names matched case-insensitively like Go's encoding/json. */
export function parseEntries(data: string): KVEntry[] {
  let parsed: unknown;
  try {
    parsed = parseJSONExact(data);
  } catch (err) {
    throw new Error((err as Error).message, { cause: err });
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw new Error(`json: cannot unmarshal ${jsonKind(parsed)} into Go value of type []*impexp.Entry`);
  return parsed.filter((e) => e !== null).map((raw) => {
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`json: cannot unmarshal ${jsonKind(raw)} into Go value of type impexp.Entry`);
    const get = (name: string): unknown => {
      const k = Object.keys(raw).find((x) => x.toLowerCase() === name);
      return k === undefined ? undefined : (raw as Record<string, unknown>)[k];
    };
    const field = <T>(name: string, type: string, goType: string, dflt: T): T => {
      const v = get(name);
      if (v === undefined || v === null) return dflt;
      if (typeof v !== type || (goType === 'uint64' && (!Number.isInteger(v) || (v as number) < 0))) {
        throw new Error(`json: cannot unmarshal ${jsonKind(v)} into Go struct field Entry.${name} of type ${goType}`);
      }
      return v as T;
    };
    const big = get('flags');
    const flags = typeof big === 'bigint' ? big : field('flags', 'number', 'uint64', 0);
    const e: KVEntry = { key: field('key', 'string', 'string', ''), flags, value: field('value', 'string', 'string', '') };
    const ns = field('namespace', 'string', 'string', '');
    const part = field('partition', 'string', 'string', '');
    if (ns) e.namespace = ns;
    if (part) e.partition = part;
    return e;
  });
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

const ALPHABET = /[A-Za-z0-9+/]/;

/** Go's base64.StdEncoding.DecodeString: padding required, CR/LF ignored, errors as `illegal base64 data at input byte N`. */
export function decodeBase64Strict(s: string): Buffer {
  const chars: { c: string; i: number }[] = [];
  for (let i = 0; i < s.length; i++) if (s[i] !== '\r' && s[i] !== '\n') chars.push({ c: s[i], i });
  const fail = (at: number): never => {
    throw new Error(`illegal base64 data at input byte ${at}`);
  };
  for (let q = 0; q < chars.length; q += 4) {
    const quantum = chars.slice(q, q + 4);
    if (quantum.length < 4) fail(quantum[0].i);
    for (let j = 0; j < 4; j++) {
      const { c, i } = quantum[j];
      if (c === '=') {
        if (j < 2) fail(i);
        if (j === 2 && quantum[3].c !== '=') fail(quantum[3].i);
        if (q + 4 < chars.length) fail(chars[q + 4].i);
        break;
      }
      if (!ALPHABET.test(c)) fail(i);
    }
  }
  return Buffer.from(chars.map((x) => x.c).join(''), 'base64');
}
