// Prepared answers built ahead of the first questions: once the listeners are up, each service's
// A and SRV questions are answered once, in the background and in short slices, so the first real
// question of each does not pay the build (prepared.ts) nor the answer path's first compilation.
// Without this a restarted agent with 1,000 services queued questions for up to 0.6 s (issue #5).

/** What the warm-up answers synthetic questions with (DnsHandler). */
export interface WarmTarget {
  answerNow(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | null | undefined;
}

/** Timers the warm-up yields with (tests inject their own). */
export interface WarmTimers {
  /** Runs `fn` soon without keeping the process alive; returns a cancel function. */
  later(fn: () => void): () => void;
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
 * At most this many services are warmed (two entries each; prepared.ts keeps 20,000): with 10
 * instances each, 1,000 services' entries hold ≈ 6 MiB, which an agent asked about few of them keeps.
 */
export const MAX_WARMED = 2_000;
/**
 * Catalogs with fewer services are left to build on first use: their few builds cost the first
 * questions little, and warming them would compile the answer path right after start instead.
 */
export const MIN_WARMED = 32;
/** The question types warmed: A and SRV, what service discovery asks. */
const QTYPES = [1, 33];
/** A DNS label the wire form below can carry as it is (others are left to their first question). */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

const UNREF_TIMERS: WarmTimers = {
  later(fn) {
    const t = setTimeout(fn, 0);
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
  const slice = (): void => {
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
    if (stopped || next >= total) finish(next);
    else cancel = timers.later(slice);
  };
  cancel = timers.later(slice);
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
