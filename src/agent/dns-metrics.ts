// Consul's DNS metrics: dns.domain_query and dns.ptr_query timers labelled with the agent's node
// name, and the dns.stale_queries counter of answers read from a replica over 5 s behind.

import type { Telemetry } from '../telemetry/metrics.ts';

/** The DNS listeners' and the stale guard's metric hooks. */
export interface DnsMetrics {
  timed(ptr: boolean, ms: number): void;
  staleQuery(): void;
}

/** Registers the DNS metrics of the agent named `nodeName`. */
export function dnsMetrics(t: Pick<Telemetry, 'labeledTimer' | 'counter'>, nodeName: string): DnsMetrics {
  const domain = t.labeledTimer('dns.domain_query', 'Measures the time spent handling a domain query for the given node.', ['node']);
  const ptr = t.labeledTimer('dns.ptr_query', 'Measures the time spent handling a reverse DNS lookup for the given node.', ['node']);
  const stale = t.counter('dns.stale_queries', 'Increments when an agent serves a query within the allowed stale threshold.');
  return {
    timed: (reverse, ms) => (reverse ? ptr : domain)(ms, nodeName),
    staleQuery: () => stale(),
  };
}
