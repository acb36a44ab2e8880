// The persisted peer snapshot (Serf's local.snapshot): known live peers, the user event clock
// and whether we left gracefully, so a restarted agent rejoins its pool by itself.
import fs from 'node:fs';
import path from 'node:path';
import type { Address } from './address.ts';

/** Shortest spell between two snapshot writes; the first change after a quiet spell is written at once. */
export const SNAPSHOT_MIN_INTERVAL_MS = 500;

/** What survives a restart. */
export interface SnapshotData {
  peers: Array<{ name: string } & Address>;
  /** The latest Lamport time of a user event delivered here (Serf's `event-clock:` line). */
  lastEventClock?: number;
  /**
   * Older files' user event clock, read but no longer written: before 59ee0ae it was the last
   * time used or seen, since then the next time to use; which one a file holds is unknown.
   */
  eventClock?: number;
  left: boolean;
}

/**
 * The latest user event time a snapshot vouches for, in Serf's sense, for either format. An
 * older file's `eventClock` is taken as a time already used: for a file written before 59ee0ae
 * it is one, and for a later file (the next time to use) restoring past it only skips a time,
 * which a Lamport clock may do, where reading it as the next time could give two events one time.
 */
export function lastEventClock(data: SnapshotData): number {
  const v = typeof data.lastEventClock === 'number' ? data.lastEventClock : data.eventClock;
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 0;
}

/** Reads and writes the snapshot file. */
export class PeerSnapshot {
  readonly file: string;

  /** `<dataDir>/<stem>.snapshot` (Serf's local.snapshot, remote.snapshot for the WAN pool). */
  constructor(dataDir: string, stem = 'local') {
    this.file = path.join(dataDir, `${stem}.snapshot`);
  }

  /** The last snapshot, or undefined when there is none or it is unreadable. */
  load(): SnapshotData | undefined {
    try {
      const v = JSON.parse(fs.readFileSync(this.file, 'utf8')) as SnapshotData;
      return Array.isArray(v.peers) ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /** Replaces the snapshot atomically. */
  save(data: SnapshotData): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(data));
    fs.renameSync(tmp, this.file);
  }
}
