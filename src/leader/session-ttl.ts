// Leader duty: session TTL timers (Consul's session_ttl.go). A TTL session is invalidated
// 2×TTL after its last create or renew, so clients get at least TTL and at most 2×TTL.
// Timers run on the injected clock and are re-armed in full when leadership starts.
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { parseGoDuration } from '../duration.ts';
import type { SessionRecord } from '../state/index.ts';

/** Consul's SessionTTLMultiplier. */
export const SESSION_TTL_MULTIPLIER = 2;

/** Dependencies of the timers. */
export interface SessionTimersDeps {
  clock: Clock;
  logger: Logger;
  /** Invalidates an expired session. */
  expire(id: string): Promise<void>;
}

/** The leader's per-session expiry timers. */
export class SessionTimers {
  readonly #deps: SessionTimersDeps;
  #timers = new Map<string, TimerHandle>();
  #running = false;

  constructor(deps: SessionTimersDeps) {
    this.#deps = deps;
  }

  /** Starts leading: arms a full timer for every TTL session. */
  start(sessions: SessionRecord[]): void {
    this.#running = true;
    for (const s of sessions) this.armed(s);
  }

  /** Stops leading: drops every timer. */
  stop(): void {
    this.#running = false;
    for (const t of this.#timers.values()) t.cancel();
    this.#timers.clear();
  }

  /** (Re)arms the timer of a session after create or renew. */
  armed(s: SessionRecord): void {
    if (!this.#running || !s.TTL) return;
    const ttl = parseGoDuration(s.TTL);
    if (!ttl) return;
    this.#timers.get(s.ID)?.cancel();
    this.#timers.set(s.ID, this.#deps.clock.setTimer(ttl * SESSION_TTL_MULTIPLIER, () => {
      this.#timers.delete(s.ID);
      this.#deps.logger.debug({ session: s.ID }, 'session TTL expired; invalidating');
      this.#deps.expire(s.ID).catch((err) => this.#deps.logger.error({ err, session: s.ID }, 'session invalidation failed'));
    }));
  }

  /** Forgets a destroyed session's timer. */
  cleared(id: string): void {
    this.#timers.get(id)?.cancel();
    this.#timers.delete(id);
  }

  /** Number of armed timers (metrics, tests). */
  get size(): number {
    return this.#timers.size;
  }
}
