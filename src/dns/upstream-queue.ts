// DNS questions waiting on an upstream: a server over the internal RPC (a client agent), a server
// of another datacenter, a consistent read of the store. Load is bounded three ways. At most
// maxInFlight calls run at once, and questions with the same key share one call. At most
// maxQuestions questions wait in all (queued, or on a running call): past that the oldest is shed
// and answered SERVFAIL, as Consul answers a lookup whose RPC its agent's rate limit refused. A
// question that has waited maxWaitMs is dropped, since its resolver has retried or given up by
// then, and a call nobody waits for any more is aborted, freeing its slot. A free slot goes to the
// newest queued call first: under overload the oldest askers are the likeliest to have left.
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import { RCODE } from './errors.ts';
import { errorReply } from './edns.ts';

/** Thrown to a question shed because too many were waiting: answer it SERVFAIL. */
export class QuestionShed extends Error {
  constructor() {
    super('too many DNS questions waiting on the servers');
    this.name = 'QuestionShed';
  }
}

/** Thrown to a question that waited longer than its resolver would: send nothing. */
export class QuestionExpired extends Error {
  constructor() {
    super('the DNS question waited too long for the servers');
    this.name = 'QuestionExpired';
  }
}

/** Bounds of a queue. */
export interface UpstreamQueueOptions {
  /** Calls running at once (default 256). */
  maxInFlight?: number;
  /** Questions waiting at once, queued or on a running call (default 4096). */
  maxQuestions?: number;
  /** Longest a question waits for its answer, ms (default 2000: dig, glibc and c-ares retry by then). */
  maxWaitMs?: number;
  clock?: Clock;
}

/** Defaults: 256 calls, 4096 questions, 2 s (Consul's recursor_timeout default; resolvers time out in 2–5 s). */
export const QUEUE_DEFAULTS = { maxInFlight: 256, maxQuestions: 4096, maxWaitMs: 2000 } as const;

/**
 * Aborts a call nobody waits for (the agent Forwarder's Abortable shape): lighter than an
 * AbortController and its AbortSignal, made once per server request on the hot path.
 */
export interface CallSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: { handleEvent(): void }): void;
  removeEventListener(type: 'abort', listener: { handleEvent(): void }): void;
}

class CallAbort implements CallSignal {
  aborted = false;
  #listeners: { handleEvent(): void }[] = [];

  addEventListener(_type: 'abort', listener: { handleEvent(): void }): void {
    if (!this.aborted) this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: { handleEvent(): void }): void {
    const i = this.#listeners.indexOf(listener);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const ls = this.#listeners;
    this.#listeners = [];
    for (const l of ls) l.handleEvent();
  }
}

interface Question {
  call: Call;
  arrivedAt: number;
  resolve(v: unknown): void;
  reject(err: Error): void;
}

interface Call {
  key: string | undefined;
  fn: (signal: CallSignal) => Promise<unknown>;
  questions: Set<Question>;
  /** Set while running. */
  abort?: CallAbort;
  /** Links of the queued list (newest at the tail). */
  prev?: Call;
  next?: Call;
  queued: boolean;
}

/** The queue; `run` answers a question through it. */
export class UpstreamQueue {
  readonly #max: Required<Omit<UpstreamQueueOptions, 'clock'>>;
  readonly #clock: Clock;
  /** Every waiting question, oldest first. */
  readonly #questions = new Set<Question>();
  /** Calls by key, queued or running. */
  readonly #calls = new Map<string, Call>();
  #head: Call | undefined;
  #tail: Call | undefined;
  #running = 0;
  #timer: TimerHandle | undefined;
  #timerAt = 0;

  constructor(opts: UpstreamQueueOptions = {}) {
    this.#max = {
      maxInFlight: opts.maxInFlight ?? QUEUE_DEFAULTS.maxInFlight,
      maxQuestions: opts.maxQuestions ?? QUEUE_DEFAULTS.maxQuestions,
      maxWaitMs: opts.maxWaitMs ?? QUEUE_DEFAULTS.maxWaitMs,
    };
    this.#clock = opts.clock ?? systemClock;
  }

  /** Calls running now. */
  get running(): number {
    return this.#running;
  }

  /** Questions waiting now (queued or on a running call). */
  get waiting(): number {
    return this.#questions.size;
  }

  /**
   * `fn`'s result for this question, shared with every question of the same `key` waiting at
   * the same time (undefined: never shared). Rejects with QuestionShed or QuestionExpired when
   * the queue gives up on the question; `fn`'s signal aborts when no question waits for it.
   */
  run<T>(key: string | undefined, fn: (signal: CallSignal) => Promise<T>): Promise<T> {
    let call = key === undefined ? undefined : this.#calls.get(key);
    if (!call) {
      call = { key, fn, questions: new Set(), queued: false };
      if (key !== undefined) this.#calls.set(key, call);
      this.#enqueue(call);
    }
    const c = call;
    return new Promise<T>((resolve, reject) => {
      const q: Question = { call: c, arrivedAt: this.#clock.now(), resolve: resolve as (v: unknown) => void, reject };
      c.questions.add(q);
      this.#questions.add(q);
      if (this.#questions.size > this.#max.maxQuestions) this.#leave(this.#questions.values().next().value!, new QuestionShed());
      this.#schedule();
      this.#pump();
    });
  }

  #enqueue(call: Call): void {
    call.queued = true;
    call.prev = this.#tail;
    if (this.#tail) this.#tail.next = call;
    else this.#head = call;
    this.#tail = call;
  }

  #unlink(call: Call): void {
    if (!call.queued) return;
    call.queued = false;
    if (call.prev) call.prev.next = call.next;
    else this.#head = call.next;
    if (call.next) call.next.prev = call.prev;
    else this.#tail = call.prev;
    call.prev = call.next = undefined;
  }

  /** Starts the newest queued calls while slots are free. */
  #pump(): void {
    while (this.#running < this.#max.maxInFlight && this.#tail) {
      const call = this.#tail;
      this.#unlink(call);
      this.#start(call);
    }
  }

  #start(call: Call): void {
    this.#running++;
    const abort = new CallAbort();
    call.abort = abort;
    let p: Promise<unknown>;
    try {
      p = call.fn(abort);
    } catch (err) {
      p = Promise.reject(err as Error);
    }
    p.then((v) => this.#settle(call, abort, (q) => q.resolve(v)), (err: Error) => this.#settle(call, abort, (q) => q.reject(err)));
  }

  #settle(call: Call, abort: CallAbort, each: (q: Question) => void): void {
    // Aborted: its slot was freed and its questions answered when the last one left.
    if (abort.aborted) return;
    this.#finish(call);
    for (const q of call.questions) {
      this.#questions.delete(q);
      each(q);
    }
    call.questions.clear();
    this.#pump();
  }

  /** The call leaves the queue's books: its key is free for a new call, its slot for the next. */
  #finish(call: Call): void {
    if (call.key !== undefined && this.#calls.get(call.key) === call) this.#calls.delete(call.key);
    if (call.abort) {
      call.abort = undefined;
      this.#running--;
    } else this.#unlink(call);
  }

  /** One question gives up; a call left without questions is dropped (aborted when running). */
  #leave(q: Question, why: Error): void {
    this.#questions.delete(q);
    const call = q.call;
    call.questions.delete(q);
    q.reject(why);
    if (call.questions.size > 0) return;
    const abort = call.abort;
    this.#finish(call);
    abort?.abort();
    this.#pump();
  }

  /** One timer, at the oldest question's deadline. */
  #schedule(): void {
    const oldest = this.#questions.values().next().value;
    if (!oldest) return;
    const at = oldest.arrivedAt + this.#max.maxWaitMs;
    if (this.#timer && this.#timerAt <= at) return;
    this.#timer?.cancel();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimer(at - this.#clock.now(), () => this.#expire());
  }

  #expire(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    for (const q of this.#questions) {
      if (q.arrivedAt + this.#max.maxWaitMs > now) break;
      this.#leave(q, new QuestionExpired());
    }
    this.#schedule();
  }
}

/**
 * A header-and-question SERVFAIL for a shed question under our domain (AA and the request's EDNS0
 * echoed, as Consul's handleQuery answers a lookup whose RPC failed; RD echoed, RA when the agent
 * has recursors); null when the message has no readable question.
 */
export function shedReply(msg: Buffer, recursionAvailable: boolean): Buffer | null {
  return errorReply(msg, RCODE.SERVFAIL, { authoritative: true, recursionAvailable });
}

/** A reply shared by identical questions, under this question's ID (copied when that differs; never changed in place). */
export function replyWithId(reply: Buffer, msg: Buffer): Buffer {
  if (reply.length < 2 || msg.length < 2 || (reply[0] === msg[0] && reply[1] === msg[1])) return reply;
  const out = Buffer.from(reply);
  out.writeUInt16BE(msg.readUInt16BE(0), 0);
  return out;
}

/** The key part of a raw question shared by identical questions: every byte but the ID. */
export function questionBytes(msg: Buffer): string {
  return msg.toString('latin1', 2);
}
