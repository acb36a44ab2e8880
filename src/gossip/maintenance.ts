// Background chores of a gossip node: repeating clock-driven loops, Serf's reaper (failed
// members after reconnect_timeout, left ones after the tombstone timeout) and its reconnector
// (periodically retry one failed member, which is how a healed partition merges again).
import type { Clock, TimerHandle } from '../clock.ts';
import type { ResolvedConfig } from './config.ts';
import type { Member } from './member.ts';
import type { Membership } from './membership.ts';

/** A set of repeating loops that can all be stopped at once. */
export class Loops {
  readonly #clock: Clock;
  readonly #timers = new Map<string, TimerHandle>();
  #stopped = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Runs `fn` every `interval()` ms, first after `firstDelay` ms. */
  every(name: string, interval: () => number, fn: () => void, firstDelay = interval()): void {
    const run = (delay: number) => {
      if (this.#stopped) return;
      this.#timers.set(name, this.#clock.setTimer(delay, () => {
        fn();
        run(interval());
      }));
    };
    run(firstDelay);
  }

  /** Stops every loop. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) t.cancel();
    this.#timers.clear();
  }
}

/** Removes failed members past reconnect_timeout (or their own, through the override) and left members past the tombstone timeout. */
export function reap(m: Membership, config: ResolvedConfig, now: number): void {
  const override = config.reconnectTimeoutOverride;
  for (const member of [...m.members.values()]) {
    const age = now - member.stateChange;
    if (member.state === 'dead' && age > (override ? override(member, config.reconnectTimeoutMs) : config.reconnectTimeoutMs)) m.remove(member.name);
    else if (member.state === 'left' && member.name !== m.name && age > config.tombstoneTimeoutMs) m.remove(member.name);
  }
}

/** Picks a failed member to retry, with Serf's probability (failed / alive), or none. */
export function pickReconnect(m: Membership, random: () => number): Member | undefined {
  const failed = [...m.members.values()].filter((x) => x.state === 'dead');
  if (failed.length === 0) return undefined;
  const prob = failed.length / Math.max(1, m.liveCount());
  if (random() > prob) return undefined;
  return failed[Math.floor(random() * failed.length)];
}
