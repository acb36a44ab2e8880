// retry_join as Consul runs it: join the listed addresses in the background, retrying every
// retry_interval until at least one answers, giving up after retry_max attempts (0: never).
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { formatGoDuration } from '../duration.ts';

/** What the loop needs. */
export interface RetryJoinOptions {
  addrs: string[];
  intervalMs: number;
  /** Attempts before giving up; 0 retries forever. */
  max: number;
  join(addrs: string[]): Promise<number>;
  /** Which pool, for the logs and the exhaustion error (default LAN). */
  cluster?: 'LAN' | 'WAN';
  /** True once a peer has joined us: later retries then stop (a redundant join only ratchets the event clock). */
  inPool?: () => boolean;
  clock: Clock;
  logger: Logger;
  /** Called once when retry_max attempts all failed (Consul's agent then exits). */
  onExhausted(err: Error): void;
}

/** A running retry-join loop. */
export interface RetryJoin {
  /** Resolves with the number joined on success; never rejects. */
  readonly done: Promise<number>;
  stop(): void;
}

/** Starts the loop; cloud auto-join (`provider=…`) entries are reported and skipped. */
export function retryJoin(o: RetryJoinOptions): RetryJoin {
  const log = o.logger;
  const cluster = o.cluster ?? 'LAN';
  const addrs = o.addrs.filter((a) => {
    if (!a.includes('provider=')) return true;
    log.warn({ address: a }, 'cloud auto-join (go-discover) is not supported; skipping this retry_join entry');
    return false;
  });
  let stopped = false;
  let timer: TimerHandle | null = null;
  let attempt = 0;
  let finish: (n: number) => void = () => {};
  const done = new Promise<number>((resolve) => { finish = resolve; });
  const tick = async (): Promise<void> => {
    if (stopped) return;
    attempt++;
    if (attempt > 1 && o.inPool?.()) {
      log.info({ cluster }, 'Join cluster completed: already joined by a peer');
      finish(0);
      return;
    }
    log.info({ cluster }, 'Joining cluster...');
    try {
      const n = await o.join(addrs);
      log.info({ cluster, num_servers: n }, 'Join cluster completed. Synced with initial agents');
      finish(n);
    } catch (err) {
      if (stopped) return;
      if (o.max > 0 && attempt >= o.max) {
        log.error({ cluster, error: (err as Error).message }, 'max join retry exhausted, exiting');
        finish(0);
        o.onExhausted(new Error(`agent: max join (${cluster}) retry exhausted: ${(err as Error).message}`));
        return;
      }
      log.warn({ cluster, retry_interval: formatGoDuration(o.intervalMs), error: (err as Error).message }, 'Join cluster failed, will retry');
      timer = o.clock.setTimer(o.intervalMs, () => void tick());
    }
  };
  if (addrs.length === 0) finish(0);
  else void tick();
  return { done, stop() { stopped = true; timer?.cancel(); finish(0); } };
}
