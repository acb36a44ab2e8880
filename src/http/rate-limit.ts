// Server request rate limiting (Consul's agent/consul/rate): global read and write token buckets
// from limits.request_limits, and the per-source-IP limits of control-plane-request-limit config
// entries (Consul Enterprise). Permissive mode logs and counts what exceeds a limit; enforcing
// mode refuses it with Consul's errors: 503 for a write on the leader (retrying elsewhere cannot
// help), 429 otherwise (another server may serve it).
import type { Clock } from '../clock.ts';
import { ProconsulError, RateLimitedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RateOperation } from './rate-limit-ops.ts';

/** limits.request_limits.mode, and a control-plane-request-limit entry's Mode. */
export type RateLimitMode = 'disabled' | 'permissive' | 'enforcing';

/** limits.request_limits: requests per second; a negative rate (the default, -1) is no limit. */
export interface RequestLimitsConfig {
  mode: RateLimitMode;
  readRate: number;
  writeRate: number;
}

/** One control-plane-request-limit entry as the limiter reads it (the stored entry's fields). */
export interface ControlPlaneLimitEntry {
  Name: string;
  Mode?: string;
  ReadRate?: number;
  WriteRate?: number;
  [category: string]: unknown;
}

/** Consul's rate.ErrRetryElsewhere text (429). */
export const RETRY_ELSEWHERE = 'rate limit exceeded, try again later or against a different server';
/** Consul's rate.ErrRetryLater text (503). */
export const RETRY_LATER = 'rate limit exceeded for operation that can only be performed by the leader, try again later';

/** Consul sizes a global bucket's burst as ten seconds of its rate (requestLimitsBurstMultiplier). */
const BURST_SECONDS = 10;
/** The documented default ReadRate and WriteRate of a control-plane-request-limit entry. */
const ENTRY_DEFAULT_RATE = 100;
/**
 * How often (on the clock) per-source buckets that have refilled are dropped, as Consul's
 * multilimiter cleans up limiters not used lately: a full bucket is the same as a new one, so
 * dropping it changes no answer, and memory follows the sources seen in the last seconds.
 */
const SWEEP_MS = 30_000;

/** A token bucket on the injected clock, as Go's rate.Limiter: starts full, refills at `rate` per second. */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #tokens: number;
  #last: number;

  constructor(rate: number, burst: number, now: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** New rate and burst (a reload): tokens already saved are kept, up to the new burst; a bucket that had no limit starts full. */
  configure(rate: number, burst: number, now: number): void {
    this.#refill(now);
    // An unlimited bucket saved nothing: a limit set on it starts full, as a new one would.
    const wasUnlimited = this.#rate === Infinity;
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = wasUnlimited ? burst : Math.min(this.#tokens, burst);
  }

  /** Whether the bucket can refuse anything (a finite rate). */
  get limited(): boolean {
    return this.#rate !== Infinity;
  }

  /** Whether the bucket has refilled to its burst by `now` (indistinguishable from a new one). */
  full(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#burst;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    if (this.#rate === Infinity) return true;
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    if (this.#rate !== Infinity) this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#rate);
  }
}

/** A limit that applies to one request. */
interface Limit {
  mode: RateLimitMode;
  bucket: TokenBucket;
  /** The metric's `limit_type` label. */
  desc: string;
  /** Whether requests from other servers count too (only the global limits do). */
  onServers: boolean;
}

/** What the limiter needs. */
export interface RateLimiterDeps {
  clock: Clock;
  logger: Logger;
  config: RequestLimitsConfig;
  /** Whether this server leads (a write refused on the leader is 503, elsewhere 429). */
  isLeader(): boolean;
  /** consul.rpc.rate_limit.exceeded, with limit_type, op and mode labels. */
  exceeded?(labels: { limit_type: string; op: string; mode: string }): void;
  /** The control-plane-request-limit entries and their index (absent: none). */
  entries?: { index(): number; list(): ControlPlaneLimitEntry[] };
  /** Whether an address is another server's (the per-IP limits skip servers, as Consul's). */
  isServer?(ip: string): boolean;
}

/** One server's request rate limiter. */
export class RequestRateLimiter {
  readonly #deps: RateLimiterDeps;
  #config: RequestLimitsConfig;
  readonly #read: TokenBucket;
  readonly #write: TokenBucket;
  /** Per source IP limits by `<entry>/<ip>/<category>/<read|write>`, rebuilt when the entries change. */
  #ipBuckets = new Map<string, TokenBucket>();
  #entriesIndex = -1;
  #entries: ControlPlaneLimitEntry[] = [];
  #lastSweep: number;

  constructor(deps: RateLimiterDeps) {
    this.#deps = deps;
    this.#config = deps.config;
    const now = deps.clock.now();
    this.#lastSweep = now;
    this.#read = new TokenBucket(...globalRate(deps.config.readRate), now);
    this.#write = new TokenBucket(...globalRate(deps.config.writeRate), now);
  }

  /** Applies reloaded limits.request_limits: the mode at once, rates keeping the saved tokens. */
  update(config: RequestLimitsConfig): void {
    const now = this.#deps.clock.now();
    if (config.readRate !== this.#config.readRate) this.#read.configure(...globalRate(config.readRate), now);
    if (config.writeRate !== this.#config.writeRate) this.#write.configure(...globalRate(config.writeRate), now);
    this.#config = config;
  }

  /** Whether any request can be counted: false while the global mode is disabled (entries included). */
  get active(): boolean {
    return this.#config.mode !== 'disabled';
  }

  /**
   * Counts one request; throws Consul's error when an enforcing limit is exceeded. Nothing is
   * counted while the global mode is disabled (Consul's Allow returns first), entries included.
   */
  check(op: RateOperation, sourceIp: string): void {
    if (this.#config.mode === 'disabled') return;
    // One client whichever socket family it came in on (`::ffff:10.0.0.1` is 10.0.0.1).
    if (sourceIp.startsWith('::ffff:')) sourceIp = sourceIp.slice(7);
    // Whether another server sent it: asked only when a per-source limit applies.
    let fromServer: boolean | undefined;
    const now = this.#deps.clock.now();
    let refused = false;
    for (const l of this.#limits(op, sourceIp)) {
      if (l.mode === 'disabled' || (!l.onServers && (fromServer ??= this.#deps.isServer?.(sourceIp) ?? false)) || l.bucket.take(now)) continue;
      const enforced = l.mode === 'enforcing';
      this.#deps.logger.debug({ rpc: op.name, source_addr: sourceIp, limit_type: l.desc, limit_enforced: enforced }, 'RPC exceeded allowed rate limit');
      this.#deps.exceeded?.({ limit_type: l.desc, op: op.name, mode: l.mode });
      refused ||= enforced;
    }
    if (!refused) return;
    if (op.type === 'write' && this.#deps.isLeader()) throw new ProconsulError('unavailable', RETRY_LATER);
    throw new RateLimitedError(RETRY_ELSEWHERE);
  }

  #limits(op: RateOperation, ip: string): Limit[] {
    const global: Limit = op.type === 'read'
      ? { mode: this.#config.mode, bucket: this.#read, desc: 'global/read', onServers: true }
      : { mode: this.#config.mode, bucket: this.#write, desc: 'global/write', onServers: true };
    const entries = this.#currentEntries();
    if (entries.length === 0) return [global];
    this.#sweep(this.#deps.clock.now());
    const out = [global];
    for (const e of entries) out.push(...this.#entryLimits(e, op, ip));
    return out;
  }

  // An entry's limits for a request: its ReadRate/WriteRate for everything from one source IP,
  // and the category's own rates when the entry sets that category.
  #entryLimits(e: ControlPlaneLimitEntry, op: RateOperation, ip: string): Limit[] {
    const mode = entryMode(e.Mode);
    const side = op.type === 'read' ? 'ReadRate' : 'WriteRate';
    const out: Limit[] = [{ mode, bucket: this.#ipBucket(`${e.Name}/${ip}//${side}`, rateOr(e[side])), desc: `ip/${op.type}`, onServers: false }];
    const cat = e[op.category];
    if (cat && typeof cat === 'object') {
      const rate = rateOr((cat as Record<string, unknown>)[side]);
      out.push({ mode, bucket: this.#ipBucket(`${e.Name}/${ip}/${op.category}/${side}`, rate), desc: `ip/${op.category}/${op.type}`, onServers: false });
    }
    return out;
  }

  /** How many per-source buckets are held (for tests: they must not grow with every source ever seen). */
  get sourceBuckets(): number {
    return this.#ipBuckets.size;
  }

  // Drops the per-source buckets that have refilled, at most once per SWEEP_MS.
  #sweep(now: number): void {
    if (now - this.#lastSweep < SWEEP_MS) return;
    this.#lastSweep = now;
    for (const [key, b] of this.#ipBuckets) if (b.full(now)) this.#ipBuckets.delete(key);
  }

  #ipBucket(key: string, rate: number): TokenBucket {
    let b = this.#ipBuckets.get(key);
    if (!b) this.#ipBuckets.set(key, b = new TokenBucket(rate, Math.floor(rate) * BURST_SECONDS, this.#deps.clock.now()));
    return b;
  }

  // Entries are read again only when their kind's index moved; buckets start afresh then.
  #currentEntries(): ControlPlaneLimitEntry[] {
    const source = this.#deps.entries;
    if (!source) return this.#entries;
    const index = source.index();
    if (index !== this.#entriesIndex) {
      this.#entriesIndex = index;
      this.#entries = source.list();
      this.#ipBuckets = new Map();
    }
    return this.#entries;
  }
}

/** A global rate and its burst: no limit for a negative rate (Go's rate.Inf), burst int(rate)*10. */
function globalRate(rate: number): [number, number] {
  if (rate < 0 || !Number.isFinite(rate)) return [Infinity, 0];
  return [rate, Math.floor(rate) * BURST_SECONDS];
}

function rateOr(v: unknown): number {
  return typeof v === 'number' && v > 0 ? v : ENTRY_DEFAULT_RATE;
}

// An entry's Mode: the documented default is permissive.
function entryMode(mode: string | undefined): RateLimitMode {
  return mode === 'disabled' || mode === 'enforcing' ? mode : 'permissive';
}

/** limits.rpc_rate and rpc_max_burst as a bucket (a new, full one per reload, as Consul's): a negative rate is no limit. */
export function rpcRateBucket(limits: { rpcRate?: number; rpcMaxBurst?: number }, now: number): TokenBucket {
  const rate = limits.rpcRate ?? -1;
  return new TokenBucket(rate < 0 ? Infinity : rate, limits.rpcMaxBurst ?? 1000, now);
}
