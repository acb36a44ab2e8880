// Whether keys were written within a span of etcd revisions, read from etcd's history (a watch
// from a past revision). etcd's compares only see the present: a key that a write whose answer
// was lost created, and another client deleted since, looks as if it had never been written.
// settle.ts needs the history before it may resend such a write.
import type { ICallable } from 'etcd3';
import { endStream, openStream } from './watch.ts';
import type { WireWatchResponse } from './watch-codec.ts';

/** From the first key to the end of the keyspace: every revision shows at least one event. */
const EVERY_KEY = Buffer.from([0]);

/** Limits of one scan. */
export interface ScanLimits {
  /** Revisions a scan may read before it gives up (default 10,000). */
  maxSpan?: number;
  /** How long it may take, ms (default 3,000). */
  timeoutMs?: number;
}

/**
 * Whether any of `keys` (etcd keys) was put or deleted at an etcd revision in (after, upTo]:
 * null when the history cannot tell (compacted, a refused or broken watch, a span past
 * `maxSpan`, out of time). Every key of the cluster is watched, since etcd gives each revision
 * to a write that changed something: the scan is complete at the first event at or past `upTo`.
 */
export async function writtenBetween(calls: ICallable<unknown>, keys: Buffer[], after: number, upTo: number, limits: ScanLimits = {}): Promise<boolean | null> {
  if (upTo <= after) return false;
  if (upTo - after > (limits.maxSpan ?? 10_000)) return null;
  const wanted = new Set(keys.map((k) => k.toString('latin1')));
  let stream: Awaited<ReturnType<typeof openStream>>;
  try {
    stream = await openStream(calls);
  } catch {
    return null;
  }
  return new Promise<boolean | null>((resolve) => {
    let done = false;
    const finish = (answer: boolean | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      endStream(stream);
      resolve(answer);
    };
    const timer = setTimeout(() => finish(null), limits.timeoutMs ?? 3_000);
    stream.on('data', (res: WireWatchResponse) => {
      if (res.compactRevision > 0 || res.canceled) return finish(null);
      let last = 0;
      for (const ev of res.events) {
        if (wanted.has(ev.key.toString('latin1'))) return finish(true);
        last = Math.max(last, ev.modRevision);
      }
      if (last >= upTo) finish(false);
    });
    stream.on('error', () => finish(null));
    stream.on('end', () => finish(null));
    stream.write({ key: EVERY_KEY, rangeEnd: EVERY_KEY, startRevision: after + 1 });
  });
}
