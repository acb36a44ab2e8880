// Prepared answers built ahead of the first questions: once the listeners are up, each service's
// A and SRV questions are answered once, in the background and in short slices, so the first real
// question of each does not pay the build (prepared.ts) nor the answer path's first compilation
// (issue #5). It pauses while questions pour in: they build what they ask for, as before.

/** What the warm-up answers synthetic questions with (DnsHandler). */
export interface WarmTarget {
  answerNow(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | null | undefined;
  /** Messages answerNow() has seen, the warm-up's included (absent: never busy). */
  readonly questions?: number;
}

/** Timers the warm-up yields with (tests inject their own). */
export interface WarmTimers {
  /** Runs `fn` after `ms` (0: at the next timer turn) without keeping the process alive; returns a cancel function. */
  later(fn: () => void, ms: number): () => void;
  /** Milliseconds, monotonic. */
  now(): number;
}

/** A warm-up under way. */
export interface Warming {
  /** Stops it (the agent stops); questions not yet warmed are built on first use as before. */
  stop(): void;
  /** Resolves with how many questions were answered, when done or stopped. */
  readonly done: Promise<number>;
}

/** The longest a slice runs before the event loop gets a turn (questions and requests waiting meanwhile). */
export const SLICE_MS = 2;
/**
 * More real questions than this since the last slice (≈ 1,000 a second) pause the warm-up for
 * BUSY_PAUSE_MS: traffic already there builds the entries it asks for, and building the others
 * beside it only lengthened its queue (more allocation, more GC: bench/dns-cold.ts with a 0.3 s gap).
 */
export const BUSY = 2;
export const BUSY_PAUSE_MS = 10;
/**
 * The first slice waits this long (and pauses as above if questions came meanwhile). Slices begun
 * at once cost the main thread 0.2–0.4 s more over a restart's first seconds and tripled its GC
 * time (bench/dns-cold.ts), most likely by allocating while the mark-compact that follows the
 * replica's load is still marking; after the wait, no more than building on first questions.
 */
export const START_DELAY_MS = 100;
/**
 * At most this many services are warmed (two entries each; prepared.ts keeps 20,000): with 10
 * instances each, 1,000 services' entries hold ≈ 6 MiB, which an agent asked about few of them keeps.
 */
export const MAX_WARMED = 2_000;
/**
 * Catalogs with fewer services are left to build on first use: their few builds cost the first
 * questions little, and warming them would compile the answer path right after start instead.
 */
export const MIN_WARMED = 32;
/**
 * At most this many instances are warmed (MAX_WARMED services of 10): a build's cost grows with the
 * instances it holds, and unbounded, 2,000 services of 50 instances took 1.9–2.3 s of CPU and 55 MiB
 * of entries after a start, of 200 instances 7.6–11 s and 187 MiB, on services nobody may ask about
 * (with it: 0.8–1.2 s and 20 MiB; bench/RESULTS.md, 2026-11-27 06:50 UTC).
 */
export const MAX_WARMED_INSTANCES = 20_000;

/**
 * The services to warm from the catalog's names and their instance sets, in catalog order while
 * within MAX_WARMED and MAX_WARMED_INSTANCES (one too big is passed over); none under MIN_WARMED services.
 */
export function warmedServices(byName: ReadonlyMap<string, { readonly size: number }>): string[] {
  const out: string[] = [];
  if (byName.size < MIN_WARMED) return out;
  let instances = 0;
  for (const [name, set] of byName) {
    if (out.length >= MAX_WARMED) break;
    if (instances + set.size > MAX_WARMED_INSTANCES) continue;
    instances += set.size;
    out.push(name);
  }
  return out;
}
/** The question types warmed: A and SRV, what service discovery asks. */
const QTYPES = [1, 33];
/** A DNS label the wire form below can carry as it is (others are left to their first question). */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

const UNREF_TIMERS: WarmTimers = {
  later(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
  now: () => performance.now(),
};

/**
 * Answers `<name>.service.<domain>` A and SRV questions for each of `names` through `target`, at
 * most SLICE_MS at a time, each slice after a timer turn that does not keep the process alive.
 */
export function warmPrepared(target: WarmTarget, names: readonly string[], domain: string, timers: WarmTimers = UNREF_TIMERS): Warming {
  const services = names.filter((n) => LABEL.test(n)).slice(0, MAX_WARMED);
  const suffix = ['service', ...domain.split('.').filter(Boolean)];
  let next = 0;
  let stopped = false;
  let cancel = (): void => {};
  let finish!: (n: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  const total = services.length * QTYPES.length;
  // Real questions seen when the last slice ended (the handler's count less the warm-up's own).
  let seen = target.questions ?? 0;
  const slice = (): void => {
    const others = (target.questions ?? 0) - next;
    const busy = others - seen > BUSY;
    seen = others;
    if (busy) {
      cancel = timers.later(slice, BUSY_PAUSE_MS);
      return;
    }
    const end = timers.now() + SLICE_MS;
    // An answer that throws (it should not) ends the warm-up: the first questions build as before.
    try {
      while (!stopped && next < total && timers.now() < end) {
        target.answerNow(question(services[next >> 1], suffix, QTYPES[next & 1]), 'udp');
        next++;
      }
    } catch {
      stopped = true;
    }
    seen = (target.questions ?? 0) - next;
    if (stopped || next >= total) finish(next);
    else cancel = timers.later(slice, 0);
  };
  cancel = timers.later(slice, START_DELAY_MS);
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      cancel();
      finish(next);
    },
    done,
  };
}

/** A query for `label`.`suffix` of `qtype` with EDNS0 (4096), as most stub resolvers ask. */
function question(label: string, suffix: string[], qtype: number): Buffer {
  const labels = [label, ...suffix];
  const nameLen = labels.reduce((n, l) => n + l.length + 1, 1);
  const msg = Buffer.alloc(12 + nameLen + 4 + 11);
  msg.writeUInt16BE(0x0100, 2);
  msg[5] = 1;
  msg[11] = 1;
  let o = 12;
  for (const l of labels) {
    msg[o] = l.length;
    msg.write(l, o + 1, 'latin1');
    o += l.length + 1;
  }
  msg.writeUInt16BE(qtype, o + 1);
  msg.writeUInt16BE(1, o + 3);
  // OPT: root owner, type 41, payload size 4096, no flags or options.
  msg.writeUInt16BE(41, o + 6);
  msg.writeUInt16BE(4096, o + 8);
  return msg;
}
