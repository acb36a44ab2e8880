// Serf's user event coalescing: events fired with `coalesce` are held and only the newest per
// name is delivered once no new one arrived for the quiescent period (or the period elapsed).
import type { Clock, TimerHandle } from '../clock.ts';
import type { UserEvent } from './gossip-events.ts';

/** Batches coalescable user events; other events pass straight through. */
export class EventCoalescer {
  readonly #clock: Clock;
  readonly #periodMs: number;
  readonly #quiescentMs: number;
  readonly #out: (e: UserEvent) => void;
  #latest = new Map<string, UserEvent>();
  #periodTimer: TimerHandle | undefined;
  #quietTimer: TimerHandle | undefined;

  constructor(clock: Clock, o: { periodMs: number; quiescentMs: number }, out: (e: UserEvent) => void) {
    this.#clock = clock;
    this.#periodMs = o.periodMs;
    this.#quiescentMs = o.quiescentMs;
    this.#out = out;
  }

  /** Accepts one event. */
  push(e: UserEvent): void {
    if (!e.coalesce) return this.#out(e);
    const prev = this.#latest.get(e.name);
    if (!prev || prev.ltime < e.ltime) this.#latest.set(e.name, e);
    this.#periodTimer ??= this.#clock.setTimer(this.#periodMs, () => this.flush());
    this.#quietTimer?.cancel();
    this.#quietTimer = this.#clock.setTimer(this.#quiescentMs, () => this.flush());
  }

  /** Delivers everything held now. */
  flush(): void {
    this.#periodTimer?.cancel();
    this.#quietTimer?.cancel();
    this.#periodTimer = undefined;
    this.#quietTimer = undefined;
    const held = [...this.#latest.values()];
    this.#latest.clear();
    for (const e of held) this.#out(e);
  }
}
