// Garbage collection figures for Consul's runtime gauges (runtime.total_gc_runs,
// runtime.total_gc_pause_ns, samples of runtime.gc_pause_ns), from V8's GC performance entries.
// GC is process-wide, like Go's runtime stats, so one observer serves every agent in the
// process; each agent's Telemetry listens through a weak reference and is never kept alive by it.
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/** Process-wide totals since the first agent started observing. */
export interface GcTotals {
  runs: number;
  pauseNs: number;
}

const totals: GcTotals = { runs: 0, pauseNs: 0 };
const listeners = new Set<WeakRef<(pauseNs: number) => void>>();
let observer: PerformanceObserver | undefined;

function onEntries(entries: readonly PerformanceEntry[]): void {
  for (const e of entries) {
    // duration is in milliseconds with sub-millisecond precision.
    const ns = Math.round(e.duration * 1e6);
    totals.runs++;
    totals.pauseNs += ns;
    for (const ref of listeners) {
      const fn = ref.deref();
      if (fn) fn(ns);
      else listeners.delete(ref);
    }
  }
}

/**
 * Starts the process's GC observer if needed and calls `onPause` with each pause in ns while the
 * caller holds `onPause`; returns the live totals.
 */
export function watchGc(onPause: (pauseNs: number) => void): Readonly<GcTotals> {
  listeners.add(new WeakRef(onPause));
  if (!observer) {
    observer = new PerformanceObserver((list) => onEntries(list.getEntries()));
    observer.observe({ entryTypes: ['gc'] });
  }
  return totals;
}
