// Local directory storage of the snapshot agent: snapshots are written straight into the path as
// consul-<id>.snap and pruned there.
import fs from 'node:fs/promises';
import path from 'node:path';
import { beyondRetain, type SnapshotStorage } from './snapshot-agent-storage.ts';

/** Snapshots kept in one directory. */
export class LocalStorage implements SnapshotStorage {
  readonly scratchDir: string;

  constructor(dir: string) {
    this.scratchDir = dir;
  }

  async store(_id: string, file: string): Promise<string> {
    return file;
  }

  async prune(retain: number): Promise<number> {
    const old = beyondRetain(await fs.readdir(this.scratchDir), retain);
    for (const f of old) await fs.rm(path.join(this.scratchDir, f), { force: true });
    return old.length;
  }
}
