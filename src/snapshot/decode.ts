// What `snapshot decode` prints for a snapshot: Consul's stream of JSON lines, first
// {"Data":<meta>,"Type":"SnapshotHeader"}, then one {"Data":…,"Type":…} per record, typed with
// Consul's message type names. Data is the record as stored (KV entries as Consul's DirEntry,
// services with their node as in a RegisterRequest, bare values with their Store key); indexes are
// not part of a snapshot's records.
import { decodeKV } from '../state/kvs.ts';
import { readSnapshotRecords } from '../store/snapshot.ts';
import type { SnapshotMeta } from './archive.ts';
import { recordType } from './inspect.ts';

/** One output line (no newline) as Go's json.Encoder writes a map: keys sorted, so Data before Type. */
function line(data: string, type: string): string {
  return `{"Data":${data},"Type":${JSON.stringify(type)}}`;
}

// A stored value as JSON text: itself when it is one JSON object or array; otherwise (ids, PEM
// keys, empty guards) the Store key with the value as text, or as base64 (Go's []byte) when not UTF-8.
function valueJson(key: string, value: Uint8Array): string {
  const text = Buffer.from(value).toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') return text.includes('\n') ? JSON.stringify(parsed) : text;
  } catch { /* not JSON: written below with its key */ }
  const utf8 = Buffer.from(text, 'utf8').equals(Buffer.from(value));
  return JSON.stringify({ Key: key, Value: utf8 ? text : Buffer.from(value).toString('base64') });
}

// Consul's api.DirEntry field order; Flags written from its exact uint64 digits.
function dirEntry(key: string, value: Uint8Array): string {
  const e = decodeKV(key, value, 0, 0);
  const session = e.Session ? `,"Session":${JSON.stringify(e.Session)}` : '';
  const v = e.Value ? JSON.stringify(e.Value.toString('base64')) : 'null';
  return `{"LockIndex":${e.LockIndex},"Key":${JSON.stringify(key)},"Flags":${e.Flags},"Value":${v}${session}}`;
}

function recordData(key: string, value: Uint8Array): string {
  if (key.startsWith('kv/')) return dirEntry(key.slice(3), value);
  const service = /^catalog\/service\/([^/]+)\//.exec(key);
  if (service) return `{"Node":${JSON.stringify(service[1])},"Service":${valueJson(key, value)}}`;
  return valueJson(key, value);
}

const CHUNK = 64 * 1024;

// state.bin in bounded pieces, so the record reader never decodes it into one string; a stream
// (a raw state.bin read from disk) is passed on as it comes.
async function* pieces(state: Buffer | AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  if (!Buffer.isBuffer(state)) {
    yield* state;
    return;
  }
  for (let at = 0; at < state.length; at += CHUNK) yield state.subarray(at, at + CHUNK);
}

/**
 * The decoded lines of one snapshot (state.bin, whole or streamed, and its meta), each as it is reached (no newline),
 * the header line once the state's own header is read; throws at a malformed record, as Consul's
 * decoder stops there.
 */
export async function* decodeSnapshot(meta: SnapshotMeta, state: Buffer | AsyncIterable<Uint8Array>): AsyncIterable<string> {
  for await (const rec of readSnapshotRecords(pieces(state))) {
    if (rec.t === 'header') yield line(JSON.stringify(meta), 'SnapshotHeader');
    else if (rec.t === 'lease') yield line(JSON.stringify({ ID: rec.id, TTL: rec.ttlSeconds }), 'Lease');
    else yield line(recordData(rec.key, rec.value), recordType(rec.key));
  }
}
