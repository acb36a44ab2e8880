// dns_config.allow_stale and max_stale on a server: DNS reads the replica (any server may answer,
// as Consul's stale reads do) unless the replica has heard nothing from the store for longer than
// max_stale, when the question waits for a consistent read first, as Consul re-asks the leader
// when a stale result's LastContact passes max_stale. With allow_stale false the read is the
// HTTP API's default mode, which here is the replica too. Should the consistent read fail, the
// replica answers anyway (logged) rather than no answer at all.
import type { DnsConfig } from '../dns/index.ts';
import type { Logger } from '../log.ts';
import type { MessageHandler } from './dc-dns.ts';

/** What the guard reads. */
export interface StaleDeps {
  isLeader(): boolean;
  /** Wall-clock ms of the replica's last batch from the store (Replica.lastContact). */
  lastContact(): number;
  now(): number;
  /** Waits until the replica holds every committed write. */
  consistentRead(): Promise<void>;
  logger: Logger;
}

/** Wraps `h` so answers are never staler than `cfg.maxStaleMs` when stale reads are allowed. */
export function staleBounded(h: MessageHandler, cfg: Pick<DnsConfig, 'allowStale' | 'maxStaleMs'>, d: StaleDeps): MessageHandler {
  if (!cfg.allowStale) return h;
  const tooStale = (): boolean => !d.isLeader() && d.now() - d.lastContact() > cfg.maxStaleMs;
  return {
    answerNow(msg, transport) {
      const early = h.answerNow(msg, transport);
      // Header rejections stand; a prepared answer waits for the consistent read.
      return early && tooStale() ? undefined : early;
    },
    async handle(msg, transport, source) {
      if (tooStale()) {
        try {
          await d.consistentRead();
        } catch (err) {
          d.logger.warn({ error: (err as Error).message }, 'DNS results too stale and the consistent read failed; answering from the replica');
        }
      }
      return h.handle(msg, transport, source);
    },
  };
}
