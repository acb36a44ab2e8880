// The Store snapshot format, shared by every backend: newline-delimited JSON, first a versioned
// header, then one line per lease and per key (values base64). Streams in bounded chunks.
import { BadRequestError } from '../errors.ts';
import type { KeyValue } from './store.ts';

/** Current snapshot format version; bump with a tested migration. */
export const SNAPSHOT_FORMAT_VERSION = 1;

interface Header {
  format: 'proconsul-store-snapshot';
  version: number;
  revision: number;
}

/** A decoded snapshot. */
export interface SnapshotData {
  revision: number;
  leases: { id: number; ttlSeconds: number }[];
  kvs: { key: string; value: Uint8Array; lease: number }[];
}

/** Encodes the keyspace as a stream of chunks of at most ~64 KiB each. */
export async function* writeSnapshot(
  revision: number,
  kvs: Iterable<KeyValue>,
  leases: Iterable<{ id: number; ttlSeconds: number }>,
): AsyncIterable<Uint8Array> {
  const header: Header = { format: 'proconsul-store-snapshot', version: SNAPSHOT_FORMAT_VERSION, revision };
  let buf: string[] = [JSON.stringify(header)];
  let size = 0;
  const flush = (): Uint8Array => {
    const out = Buffer.from(buf.join('\n') + '\n');
    buf = [];
    size = 0;
    return out;
  };
  for (const l of leases) buf.push(JSON.stringify({ t: 'lease', id: l.id, ttl: l.ttlSeconds }));
  for (const kv of kvs) {
    const line = JSON.stringify({ t: 'kv', k: kv.key, v: Buffer.from(kv.value).toString('base64'), l: kv.lease });
    buf.push(line);
    size += line.length;
    if (size > 65536) yield flush();
  }
  yield flush();
}

async function* lines(stream: AsyncIterable<Uint8Array>): AsyncIterable<string> {
  let rest = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    // Only the new text can hold the next newline: a line longer than a chunk is not rescanned.
    let from = rest.length;
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n', from)) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      from = 0;
      if (line) yield line;
    }
  }
  rest += decoder.decode();
  if (rest.trim()) yield rest;
}

/** One record of a snapshot stream, in the stream's order (the header first). */
export type SnapshotRecord =
  | { t: 'header'; revision: number }
  | { t: 'lease'; id: number; ttlSeconds: number }
  | { t: 'kv'; key: string; value: Uint8Array; lease: number };

/** Reads a snapshot stream record by record (for a reader that need not hold all of it); throws on anything malformed when it reaches it. */
export async function* readSnapshotRecords(stream: AsyncIterable<Uint8Array>): AsyncIterable<SnapshotRecord> {
  let header: Header | null = null;
  for await (const line of lines(stream)) {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch (cause) {
      throw new BadRequestError('invalid snapshot: malformed record', { cause });
    }
    if (!header) {
      if (rec.format !== 'proconsul-store-snapshot') throw new BadRequestError('invalid snapshot: missing header');
      if (rec.version !== SNAPSHOT_FORMAT_VERSION) throw new BadRequestError(`unsupported snapshot version ${String(rec.version)}`);
      header = rec as unknown as Header;
      yield { t: 'header', revision: header.revision };
    } else if (rec.t === 'lease' && typeof rec.id === 'number' && typeof rec.ttl === 'number') {
      yield { t: 'lease', id: rec.id, ttlSeconds: rec.ttl };
    } else if (rec.t === 'kv' && typeof rec.k === 'string' && typeof rec.v === 'string') {
      yield { t: 'kv', key: rec.k, value: Buffer.from(rec.v, 'base64'), lease: typeof rec.l === 'number' ? rec.l : 0 };
    } else {
      throw new BadRequestError('invalid snapshot: unknown record');
    }
  }
  if (!header) throw new BadRequestError('invalid snapshot: empty');
}

/** Decodes and validates a snapshot stream; rejects anything malformed before any change is made. */
export async function readSnapshot(stream: AsyncIterable<Uint8Array>): Promise<SnapshotData> {
  const out: SnapshotData = { revision: 0, leases: [], kvs: [] };
  for await (const rec of readSnapshotRecords(stream)) {
    if (rec.t === 'header') out.revision = rec.revision;
    else if (rec.t === 'lease') out.leases.push({ id: rec.id, ttlSeconds: rec.ttlSeconds });
    else out.kvs.push({ key: rec.key, value: rec.value, lease: rec.lease });
  }
  return out;
}
