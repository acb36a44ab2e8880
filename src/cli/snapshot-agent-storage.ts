// Where the snapshot agent keeps its snapshots: a local directory (Consul Enterprise's default) or
// an S3-compatible bucket. The S3 backend and its signing library are imported only when S3 is
// configured, so the agent's start-up does not pay for them.
import os from 'node:os';
import type { SnapshotAgentSettings } from './snapshot-agent-config.ts';

/** Matches a snapshot's base name and captures its ID (Unix nanoseconds). */
export const SNAPSHOT_NAME = /^consul-(\d+)\.snap$/;

/** A snapshot storage backend. */
export interface SnapshotStorage {
  /** Directory the verified snapshot file is written to before store() takes it. */
  readonly scratchDir: string;
  /** Keeps the verified snapshot `file` (named consul-<id>.snap); resolves to where it went. */
  store(id: string, file: string): Promise<string>;
  /** Deletes the oldest snapshots beyond `retain` (> 0); resolves to how many were deleted. */
  prune(retain: number): Promise<number>;
}

/** Sorts snapshot names (or keys) oldest first by the ID in their base name; others are dropped. */
export function oldestFirst(names: string[]): string[] {
  const id = (n: string): bigint | null => {
    const m = SNAPSHOT_NAME.exec(n.slice(n.lastIndexOf('/') + 1));
    return m ? BigInt(m[1]) : null;
  };
  return names.filter((n) => id(n) !== null).sort((a, b) => (id(a)! < id(b)! ? -1 : id(a)! > id(b)! ? 1 : 0));
}

/** The names beyond the newest `retain`, oldest first. */
export function beyondRetain(names: string[], retain: number): string[] {
  const sorted = oldestFirst(names);
  return sorted.slice(0, Math.max(0, sorted.length - retain));
}

/** Opens the backend the settings select: S3 when a bucket is set, else the local path. */
export async function openStorage(settings: SnapshotAgentSettings, env: NodeJS.ProcessEnv): Promise<SnapshotStorage> {
  if (settings.aws.s3Bucket) {
    const { S3Storage } = await import('./snapshot-agent-s3.ts');
    return new S3Storage(settings.aws, settings.localScratchPath || os.tmpdir(), env);
  }
  const { LocalStorage } = await import('./snapshot-agent-local.ts');
  return new LocalStorage(settings.localPath);
}
