// server_rejoin_age_max (Consul's server_metadata.json): a server writes when it was last seen in
// its data directory at start and every hour, and refuses to start when that is older than the
// maximum, so a server stopped for long does not rejoin with stale state until an operator acts.
import fs from 'node:fs';
import path from 'node:path';
import type { Clock, TimerHandle } from '../clock.ts';
import { formatGoDuration } from '../duration.ts';

/** The file's name in the data directory, as Consul's. */
export const SERVER_METADATA_FILE = 'server_metadata.json';
/** How often the running server writes it (Consul's persistServerMetadata). */
const PERSIST_INTERVAL_MS = 3_600_000;

/** Throws Consul's start-up error when the last-seen time in `dataDir` is older than `maxAgeMs`; no file is a first start. */
export function checkServerLastSeen(dataDir: string, maxAgeMs: number, nowMs: number): void {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, SERVER_METADATA_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`error reading server metadata: ${(err as Error).message}`);
  }
  let lastSeen: unknown;
  try {
    lastSeen = (JSON.parse(text) as { last_seen_unix?: unknown }).last_seen_unix;
  } catch (err) {
    throw new Error(`error reading server metadata: ${(err as Error).message}`);
  }
  const seenMs = typeof lastSeen === 'number' ? lastSeen * 1000 : 0;
  if (seenMs < nowMs - maxAgeMs) {
    throw new Error(`refusing to rejoin cluster because server has been offline for more than the configured server_rejoin_age_max (${formatGoDuration(maxAgeMs)}) - consider wiping your data dir`);
  }
}

/** Writes the last-seen time now and every hour until stopped; a failed write is reported to `onError`. */
export function persistServerMetadata(dataDir: string, clock: Clock, onError: (err: Error) => void): { stop(): void } {
  let timer: TimerHandle | null = null;
  let stopped = false;
  const write = (): void => {
    try {
      // Written beside and renamed over: a crash or full disk mid-write must not leave a truncated
      // file, which the next start would refuse as unreadable ('error reading server metadata').
      const file = path.join(dataDir, SERVER_METADATA_FILE);
      const tmp = `${file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ last_seen_unix: Math.floor(clock.now() / 1000) }), { mode: 0o600 });
      fs.renameSync(tmp, file);
    } catch (err) {
      onError(err as Error);
    }
    if (!stopped) timer = clock.setTimer(PERSIST_INTERVAL_MS, write);
  };
  write();
  return { stop: () => { stopped = true; timer?.cancel(); } };
}
