// Consul's DNS metrics: dns.domain_query and dns.ptr_query timers labelled with the agent's node
// name, and the dns.stale_queries counter of answers read from a replica over 5 s behind. The
// timers take the listener's own clock readings and batch their samples (telemetry/timer-batch.ts):
// a question pays two typed-array stores for them.

import type { Telemetry } from '../telemetry/metrics.ts';
import { isReverse, questionUnder, wireName } from '../dns/server.ts';

/** The DNS listeners' and the stale guard's metric hooks. */
export interface DnsMetrics {
  /** One question answered: reverse or not, started and ended at these performance.now() readings. */
  timed(ptr: boolean, t0: number, t1: number): void;
  staleQuery(): void;
  /** Questions outside the agent's domain, alt domain and `arpa.` (recursed or refused): Consul times none of them. */
  untimed(msg: Buffer): boolean;
}

/** Registers the DNS metrics of the agent named `nodeName`. */
export function dnsMetrics(t: Pick<Telemetry, 'batchedTimer' | 'counter'>, nodeName: string, domains: readonly string[] = ['consul.']): DnsMetrics {
  const served = domains.filter((d) => d !== '' && d !== '.').map(wireName);
  const domain = t.batchedTimer('dns.domain_query', 'Measures the time spent handling a domain query for the given node.', 'node', nodeName);
  const ptr = t.batchedTimer('dns.ptr_query', 'Measures the time spent handling a reverse DNS lookup for the given node.', 'node', nodeName);
  const stale = t.counter('dns.stale_queries', 'Increments when an agent serves a query within the allowed stale threshold.');
  return {
    timed: (reverse, t0, t1) => (reverse ? ptr : domain).add(t1 - t0, t1),
    staleQuery: () => stale(),
    untimed: (msg) => !isReverse(msg) && !served.some((w) => questionUnder(msg, w)),
  };
}
