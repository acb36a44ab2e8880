// dns_config.allow_stale and max_stale on a server. Stale reads allowed (the default): DNS reads
// the replica (any server may answer, as Consul's stale reads do) unless the replica has heard
// nothing from the store for longer than max_stale, when the question waits for a consistent
// read first, as Consul re-asks the leader when a stale result's LastContact passes max_stale;
// should that read fail, the replica answers anyway (logged). allow_stale false: every question
// is a default-consistency read, which Consul serves on the leader with every acknowledged write
// applied. Here the store orders writes, so the question waits until the replica holds every
// committed write; with no known leader, or when that read fails, the answer is SERVFAIL, as
// Consul's DNS answers when the leader cannot be reached. Questions waiting for a consistent read
// are bounded (dns/upstream-queue.ts): past 4,096 the oldest is shed (SERVFAIL, or the replica's
// answer when stale reads are allowed) and one that waited 2 s is dropped, so a slow or stuck
// store read never piles up questions without limit.
import { NoLeaderError } from '../errors.ts';
import { QUEUE_DEFAULTS, QuestionExpired, QuestionShed, RCODE, UpstreamQueue, errorReply, type DnsConfig } from '../dns/index.ts';
import type { Logger } from '../log.ts';
import type { MessageHandler } from './dc-dns.ts';

/** What the guard reads. */
export interface StaleDeps {
  isLeader(): boolean;
  /** Whether a leader is known (default-consistency reads need one). */
  knownLeader(): boolean;
  /** Wall-clock ms of the replica's last batch from the store (Replica.lastContact). */
  lastContact(): number;
  now(): number;
  /** Waits until the replica holds every committed write. */
  consistentRead(): Promise<void>;
  /** Questions waiting for consistent reads (default: one queue per deps, every question may wait on the shared read). */
  queue?: UpstreamQueue;
  logger: Logger;
  /** Counts an answer read from a replica that last heard from the store over 5 s ago (Consul's dns.stale_queries). */
  staleQuery?: () => void;
}

/** Consul's staleCounterThreshold: answers older than this count as stale queries. */
export const STALE_COUNTER_MS = 5_000;

/** Wraps `h` so answers honour `cfg.allowStale` and, when stale reads are allowed, `cfg.maxStaleMs`. */
export function staleBounded(h: MessageHandler, cfg: Pick<DnsConfig, 'allowStale' | 'maxStaleMs'> & { recursors?: readonly unknown[] }, deps: StaleDeps): MessageHandler {
  const d = { ...deps, consistentRead: queuedRead(deps) };
  if (!cfg.allowStale) return leaderRead(h, d, (cfg.recursors?.length ?? 0) > 0);
  const age = (): number => (d.isLeader() ? 0 : d.now() - d.lastContact());
  const staleQuery = d.staleQuery;
  return {
    answerNow(msg, transport) {
      const early = h.answerNow(msg, transport);
      if (!early) return early;
      // Header rejections stand; a prepared answer waits for the consistent read.
      const a = age();
      if (a > cfg.maxStaleMs) return undefined;
      if (a > STALE_COUNTER_MS) staleQuery?.();
      return early;
    },
    async handle(msg, transport, source, agentNode, agentDatacenter) {
      const a = age();
      if (a > STALE_COUNTER_MS && a <= cfg.maxStaleMs) staleQuery?.();
      if (a > cfg.maxStaleMs) {
        try {
          await d.consistentRead();
        } catch (err) {
          if (err instanceof QuestionExpired) return null;
          // Shed under a flood: the replica answers, unlogged (one line per question would add to the flood).
          if (!(err instanceof QuestionShed)) d.logger.warn({ error: (err as Error).message }, 'DNS results too stale and the consistent read failed; answering from the replica');
        }
      }
      return h.handle(msg, transport, source, agentNode, agentDatacenter);
    },
  };
}

// allow_stale = false: nothing is answered before the replica caught up with the store.
function leaderRead(h: MessageHandler, d: StaleDeps, recursionAvailable: boolean): MessageHandler {
  return {
    // Messages that get no reply at all are settled at once; everything else waits in handle().
    answerNow: (msg) => (dropped(msg) ? null : undefined),
    async handle(msg, transport, source, agentNode, agentDatacenter) {
      if (dropped(msg)) return null;
      try {
        if (!d.knownLeader()) throw new NoLeaderError();
        await d.consistentRead();
      } catch (err) {
        if (err instanceof QuestionExpired) return null;
        if (!(err instanceof QuestionShed)) d.logger.warn({ error: (err as Error).message }, 'DNS lookup with allow_stale = false could not read consistently');
        return servfail(msg, recursionAvailable);
      }
      return h.handle(msg, transport, source, agentNode, agentDatacenter);
    },
  };
}

// Consistent reads shared by every handler wrapped with the same deps (the agent's own and each client's).
const SHARED = new WeakMap<StaleDeps, () => Promise<void>>();
const QUEUED = new WeakMap<StaleDeps, () => Promise<void>>();

/**
 * The shared read (sharedRead) as each question waits for it: through the deps' queue, one call
 * per question (never joined by key: the shared read decides which read a question may take).
 */
function queuedRead(d: StaleDeps): () => Promise<void> {
  let queued = QUEUED.get(d);
  if (queued) return queued;
  const read = sharedRead(d);
  const queue = d.queue ?? new UpstreamQueue({ maxInFlight: QUEUE_DEFAULTS.maxQuestions });
  queued = () => queue.run(undefined, read);
  QUEUED.set(d, queued);
  return queued;
}

/**
 * The deps' consistent read, one at a time however many questions wait: a question arriving while
 * a read runs joins the next one, which starts when that one settles (so its revision is read
 * after the question came, as a read of its own would be). Under a flood of questions the store
 * is asked at most about twice at once, not once per question.
 */
function sharedRead(d: StaleDeps): () => Promise<void> {
  let shared = SHARED.get(d);
  if (shared) return shared;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const begin = (): Promise<void> => {
    let p: Promise<void>;
    try {
      p = d.consistentRead();
    } catch (err) {
      p = Promise.reject(err as Error);
    }
    const settled: Promise<void> = p.finally(() => {
      if (running === settled) running = undefined;
    });
    running = settled;
    return settled;
  };
  shared = () => {
    if (!running) return begin();
    queued ??= running.then(noop, noop).then(() => {
      queued = undefined;
      return begin();
    });
    return queued;
  };
  SHARED.set(d, shared);
  return shared;
}

function noop(): void {}

// Runts and responses, which no handler answers (miekg's accept rules).
function dropped(msg: Buffer): boolean {
  return msg.length < 12 || (msg.readUInt16BE(2) & 0x8000) !== 0;
}

// Consul's handleQuery SERVFAIL when the leader cannot be reached: AA, RA with recursors, EDNS0 echoed.
function servfail(msg: Buffer, recursionAvailable: boolean): Buffer | null {
  return errorReply(msg, RCODE.SERVFAIL, { authoritative: true, recursionAvailable });
}
