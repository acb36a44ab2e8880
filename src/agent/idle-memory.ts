// Giving back the heap an agent grew during a burst (a registration wave, a snapshot restore)
// once it is idle again, as Consul's Go runtime returns freed memory to the OS.
//
// V8 has a memory reducer for this: a few seconds after a heap-growing mark-compact it runs up to
// three incremental, compacting collections, but only when it judges the process idle (a low
// allocation rate) or told to favour memory. In Node its idleness test never passes: with nothing
// allocated between its samples the computed mutator utilization is 0, read as "high allocation",
// so an idle agent kept the heap of its busiest moment (268 MiB RSS per 100,000 instances 15 s after
// a burst, 125 MiB after a collection: bench/catalog.ts). V8 also consults the optimize_for_size flag
// at each of the reducer's ticks, so while the agent is idle after its heap has grown, this sets that
// flag and lets V8's own reducer do its work; the flag is cleared as soon as the event loop gets busy
// again, and after a bounded window in any case. Nothing here forces a collection: a forced full GC
// would stop the loop for ≈ 100 ms at 100,000 instances, where the reducer's incremental steps
// stay short.
//
// While the flag is set every full collection V8 makes is a memory-reducing, compacting one, and an
// allocation-triggered one during a burst of work (a blocking-query wave) stopped the loop for
// 130–160 ms (bench/fanout.ts). So the window is kept short: work arriving (64 HTTP requests within
// a tick, or a change waking as many blocked queries; `onWork`) closes it at once, before that work
// allocates, while a lone request (a metrics scrape) does not; it also
// closes once the reducer's collections are over (a full collection seen, then 2 s without another).
// Work that keeps interrupting it (changes every few seconds) doubles the idle spell the next attempt
// waits for, up to a minute.
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { WAKE_CHANNEL } from '../state/notify.ts';

const MiB = 1024 * 1024;

/** What the policy reads and sets; the process wiring is `processMemoryDeps()`. */
export interface IdleMemoryDeps {
  clock: Clock;
  logger: Logger;
  /** The V8 heap's committed size in bytes. */
  heapTotal(): number;
  /** The event loop's utilization (0–1) since the previous call. */
  busy(): number;
  /** Sets a V8 flag in this process (v8.setFlagsFromString). */
  setFlag(flag: string): void;
  /** Full (mark-compact) collections so far; without it the window ends only by work or windowMs. */
  majorGcs?(): number;
  /** Calls `fn(units)` whenever work arrives (subscribed only while the flag is set); returns the unsubscribe. */
  onWork?(fn: (units: number) => void): () => void;
  /** Work units within one tick that close the window at once (64). */
  workBurst?: number;
  /** Releases what the inputs hold (called by stop()). */
  close?(): void;
  /** Sampling period, ms (1 s). */
  tickMs?: number;
  /** Quiet time after the window's last full collection that ends it, ms (2 s; V8's reducer collects ≤ 3 times 0.5 s apart). */
  settleMs?: number;
  /** Longest idle spell, in ticks, that interruptions can make the next attempt wait for (60). */
  maxIdleTicks?: number;
  /** Utilization under which a tick counts as idle (0.02). */
  idleBelow?: number;
  /**
   * Utilization over which the agent is busy again and the flag is cleared (0.5). The reducer's own
   * incremental marking steps run on the loop and are not reported as GC pauses: they used ≈ 0.2 of
   * a second's loop at 30,000 instances, so a lower bar read them as work resuming.
   */
  busyAbove?: number;
  /** Idle ticks in a row before the flag is set (3). */
  idleTicks?: number;
  /** Longest the flag stays set, ms (30 s: the reducer waits ≤ 8 s, then collects 3 times 0.5 s apart). */
  windowMs?: number;
  /** The heap must have grown past baseline × growth + slack bytes since the last reduction (1.25, 16 MiB). */
  growth?: number;
  slack?: number;
}

/** The flag that makes V8's memory reducer treat the process as idle. */
export const REDUCE_FLAG = '--optimize-for-size';
export const NO_REDUCE_FLAG = '--no-optimize-for-size';

/** Asks V8 to shrink the heap while the agent is idle after growing it; stop() restores the flag. */
export class IdleMemory {
  readonly #d: Required<Omit<IdleMemoryDeps, 'majorGcs' | 'onWork'>> & Pick<IdleMemoryDeps, 'majorGcs' | 'onWork'>;
  #timer: TimerHandle | undefined;
  /** Heap size after the last reduction window (or at start): growth is measured from it. */
  #baseline: number;
  #idle = 0;
  /** Idle ticks the next window waits for: idleTicks, doubled by each interruption. */
  #needTicks: number;
  /** When the flag was set; undefined while it is not. */
  #since: number | undefined;
  /** Full collections counted when the flag was set or last seen to grow, and when that was. */
  #gcs = 0;
  #lastGcAt: number | undefined;
  #unsubscribe: (() => void) | undefined;
  /** Work units announced since the last tick. */
  #work = 0;
  #stopped = false;

  constructor(deps: IdleMemoryDeps) {
    this.#d = {
      close: () => {}, tickMs: 1000, workBurst: 64, settleMs: 2000, maxIdleTicks: 60,
      idleBelow: 0.02, busyAbove: 0.5, idleTicks: 3, windowMs: 30_000, growth: 1.25, slack: 16 * MiB, ...deps,
    };
    this.#needTicks = this.#d.idleTicks;
    this.#baseline = this.#d.heapTotal();
    this.#d.busy();
    this.#arm();
  }

  /** Whether the reduce flag is set now. */
  get reducing(): boolean {
    return this.#since !== undefined;
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    if (this.#since !== undefined) this.#end('stopped');
    this.#d.close();
  }

  #arm(): void {
    if (!this.#stopped) this.#timer = this.#d.clock.setTimer(this.#d.tickMs, () => this.#tick());
  }

  #tick(): void {
    const d = this.#d;
    const u = d.busy();
    if (this.#since !== undefined) {
      this.#work = 0;
      const now = d.clock.now();
      const gcs = d.majorGcs?.();
      if (gcs !== undefined && gcs !== this.#gcs) {
        this.#gcs = gcs;
        this.#lastGcAt = now;
      }
      if (u > d.busyAbove) this.#end('busy', u);
      else if (now - this.#since >= d.windowMs || (this.#lastGcAt !== undefined && now - this.#lastGcAt >= d.settleMs)) this.#end('done', u);
    } else {
      this.#idle = u < d.idleBelow ? this.#idle + 1 : 0;
      const total = d.heapTotal();
      if (this.#idle >= this.#needTicks && total > this.#baseline * d.growth + d.slack) {
        this.#since = d.clock.now();
        this.#gcs = d.majorGcs?.() ?? 0;
        this.#lastGcAt = undefined;
        d.setFlag(REDUCE_FLAG);
        this.#work = 0;
        this.#unsubscribe = d.onWork?.((units) => {
          this.#work += units;
          if (this.#since !== undefined && this.#work >= d.workBurst) this.#end('busy');
        });
        d.logger.debug({ heap_mib: Math.round(total / MiB), baseline_mib: Math.round(this.#baseline / MiB) }, 'idle with a grown heap: letting V8 reduce it');
      }
    }
    this.#arm();
  }

  #end(why: 'busy' | 'done' | 'stopped', utilization?: number): void {
    this.#d.setFlag(NO_REDUCE_FLAG);
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#since = undefined;
    this.#idle = 0;
    const total = this.#d.heapTotal();
    // Interrupted by work, a longer idle spell tries again; finished, growth counts from here.
    if (why === 'done') {
      this.#baseline = total;
      this.#needTicks = this.#d.idleTicks;
    } else if (why === 'busy') {
      this.#needTicks = Math.min(this.#needTicks * 2, this.#d.maxIdleTicks);
    }
    this.#d.logger.debug({ heap_mib: Math.round(total / MiB), why, utilization: utilization?.toFixed(3) }, 'memory reduction window closed');
  }
}

/**
 * The real process's inputs: V8's heap statistics and the event loop's utilization, less the time
 * the loop spent in garbage collection (the reducer's own collections run on the loop, and must
 * not read as work resuming).
 */
export function processMemoryDeps(): Pick<IdleMemoryDeps, 'heapTotal' | 'busy' | 'majorGcs' | 'onWork' | 'close'> {
  const v8 = process.getBuiltinModule('node:v8');
  const dc = process.getBuiltinModule('node:diagnostics_channel');
  const { performance, PerformanceObserver } = process.getBuiltinModule('node:perf_hooks');
  let last = performance.eventLoopUtilization();
  let gcMs = 0;
  let major = 0;
  const MAJOR = process.getBuiltinModule('node:perf_hooks').constants.NODE_PERFORMANCE_GC_MAJOR;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if ((e as { detail?: { kind?: number } }).detail?.kind === MAJOR) major++;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  return {
    heapTotal: () => v8.getHeapStatistics().total_heap_size,
    busy: () => {
      const now = performance.eventLoopUtilization();
      const d = performance.eventLoopUtilization(now, last);
      last = now;
      const spent = d.idle + d.active;
      const u = spent > 0 ? Math.max(0, d.active - gcMs) / spent : 0;
      gcMs = 0;
      return u;
    },
    majorGcs: () => major,
    // Node publishes every HTTP request's start; the notifier publishes each wave of wake-ups.
    onWork: (fn) => {
      const request = () => fn(1);
      const wave = (waiters: unknown) => fn(typeof waiters === 'number' ? waiters : 1);
      dc.subscribe('http.server.request.start', request);
      dc.subscribe(WAKE_CHANNEL, wave);
      return () => {
        dc.unsubscribe('http.server.request.start', request);
        dc.unsubscribe(WAKE_CHANNEL, wave);
      };
    },
    close: () => gc.disconnect(),
  };
}
