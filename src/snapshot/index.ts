// Public surface of the snapshot archive format (Consul's snapshot package): writing, reading
// with integrity checks, and the summary `snapshot inspect` prints.
export { readArchive, writeArchive, SnapshotFormatError, type SnapshotArchive, type SnapshotMeta } from './archive.ts';
export { decodeSnapshot } from './decode.ts';
export { summarize, byteSize, recordType, type StateSummary, type TypeStats, type KvDetailOptions } from './inspect.ts';
export { readTar, writeTar, type TarEntry } from './tar.ts';
