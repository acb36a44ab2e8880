// The snapshot archive, byte-compatible in layout with Consul's (snapshot/archive.go): a gzipped
// tar of meta.json (Raft-style metadata), state.bin (the Store's versioned snapshot stream) and
// SHA256SUMS over both. Integrity is checked before anything is handed to a restore.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { readTar, writeTar } from './tar.ts';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** Raft's SnapshotMeta as Consul writes it into meta.json. */
export interface SnapshotMeta {
  /** Raft snapshot format version (1). */
  Version: number;
  /** `<term>-<index>-<unix ms>`. */
  ID: string;
  /** The Store revision the snapshot was read at. */
  Index: number;
  Term: number;
  Peers: string | null;
  Configuration: { Servers: { Suffrage: number; ID: string; Address: string }[] };
  ConfigurationIndex: number;
  /** Length of state.bin in bytes. */
  Size: number;
}

/** A verified archive's parts. */
export interface SnapshotArchive {
  meta: SnapshotMeta;
  state: Buffer;
}

/** A malformed, truncated or tampered archive; the message follows Consul's wording. */
export class SnapshotFormatError extends Error {}

const FILES = ['meta.json', 'state.bin'] as const;

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Builds the gzipped archive; `meta.Size` is set from `state`. */
export async function writeArchive(meta: Omit<SnapshotMeta, 'Size'>, state: Buffer, nowMs = Date.now()): Promise<Buffer> {
  const metaJson = Buffer.from(JSON.stringify({ ...meta, Size: state.length }) + '\n');
  const sums = Buffer.from(`${sha256(metaJson)}  meta.json\n${sha256(state)}  state.bin\n`);
  const tar = writeTar([
    { name: 'meta.json', data: metaJson, mtimeMs: nowMs },
    { name: 'state.bin', data: state, mtimeMs: nowMs },
    { name: 'SHA256SUMS', data: sums, mtimeMs: nowMs },
  ]);
  return gzip(tar);
}

// Every file in SHA256SUMS must match, and every expected file must be listed.
function verify(files: Map<string, Buffer>, sums: Buffer): void {
  const seen = new Set<string>();
  for (const line of sums.toString('utf8').split('\n')) {
    if (!line) continue;
    const m = /^([0-9a-fA-F]{64}) {2}(\S+)$/.exec(line);
    if (!m) throw new SnapshotFormatError(`failed checking integrity of snapshot: malformed line ${JSON.stringify(line)}`);
    const [, sum, file] = m;
    if (!FILES.includes(file as (typeof FILES)[number])) throw new SnapshotFormatError(`failed checking integrity of snapshot: list missing hash for "${file}"`);
    if (sum.toLowerCase() !== sha256(files.get(file) ?? Buffer.alloc(0))) throw new SnapshotFormatError(`failed checking integrity of snapshot: hash check failed for "${file}"`);
    seen.add(file);
  }
  for (const f of FILES) if (!seen.has(f)) throw new SnapshotFormatError(`failed checking integrity of snapshot: file missing for "${f}"`);
}

function decodeMeta(raw: Buffer | undefined): SnapshotMeta {
  try {
    const meta = JSON.parse(raw?.toString('utf8') ?? '') as SnapshotMeta;
    if (!meta || typeof meta !== 'object' || typeof meta.Index !== 'number') throw new Error('missing Index');
    return meta;
  } catch (err) {
    throw new SnapshotFormatError(`failed to decode snapshot metadata: ${(err as Error).message}`);
  }
}

/** Decompresses, unpacks and verifies an archive; throws SnapshotFormatError with Consul's wording. */
export async function readArchive(archive: Buffer): Promise<SnapshotArchive> {
  let tar: Buffer;
  try {
    tar = await gunzip(archive);
  } catch (err) {
    throw new SnapshotFormatError(`failed to decompress snapshot: ${(err as Error).message}`);
  }
  const files = new Map<string, Buffer>();
  try {
    for (const e of readTar(tar)) {
      if (e.name !== 'SHA256SUMS' && !FILES.includes(e.name as (typeof FILES)[number])) throw new Error(`unexpected file "${e.name}" in snapshot`);
      files.set(e.name, e.data);
    }
  } catch (err) {
    throw new SnapshotFormatError(`failed to read snapshot file: failed reading snapshot: ${(err as Error).message}`);
  }
  try {
    verify(files, files.get('SHA256SUMS') ?? Buffer.alloc(0));
    return { meta: decodeMeta(files.get('meta.json')), state: files.get('state.bin')! };
  } catch (err) {
    throw new SnapshotFormatError(`failed to read snapshot file: ${(err as Error).message}`);
  }
}
