// What a client agent's DNS cache holds and how a cached answer is replayed. Cached are the
// lookups Consul's DNS serves from its agent cache: services (also connect and ingress) and nodes
// in a datacenter, background-refreshed on the blocking read Consul's cache types watch
// (health service nodes, a node's services), and prepared queries as simple entries. An answer
// is keyed by everything it depends on, as Consul's cache keys are (token, datacenter, name,
// namespace, partition, peer, sameness group: here the whole question name, type and class),
// and a prepared query's also by the address it runs near (the asker's, or its EDNS0 client
// subnet's), which Consul's key leaves out although the query's `near` depends on it. A cached
// answer is the server's whole answer, asked over TCP without EDNS0 and without a_record_limit
// (so nothing was cut), stored as its sections; each lookup replays it under the client's own
// handler, which fits it to the transport and echoes EDNS0 as for any answer. Service answers
// are shuffled instance by instance on every replay, as Consul shuffles cached service nodes for
// each lookup, and a_record_limit then counts instances; prepared-query answers keep the order
// the query's execution gave them, as Consul's do.
import dnsPacket, { type Answer } from 'dns-packet';
import { preferringNamespace, type DnsConfig, type ParsedName } from '../dns/index.ts';
import type { Sections } from '../dns/answers.ts';
import { shuffle } from '../shuffle.ts';
import type { CacheQuestion } from './dns-cache.ts';

/** A cached answer: its RCODE and sections. */
export interface CachedAnswer {
  rcode: number;
  sections: Sections;
  /** Replay shuffles instances (service lookups). */
  shuffle: boolean;
  /** Replay applies a_record_limit to instances (service and prepared-query address answers). */
  limit: boolean;
}

/** A cacheable question, as the cache and the fetch see it. */
export interface CacheableQuestion extends CacheQuestion {
  /** The DNS token the answer is asked under. */
  token: string;
  name: string;
  type: string;
  class: string;
  /** Whether the server's index (X-Consul-Index) applies to the watch: questions for its own datacenter. */
  ownDatacenter: boolean;
  /** The address a prepared query runs near (sent to the server); '' for other lookups. */
  source: string;
  shuffle: boolean;
  limit: boolean;
}

/**
 * The cache question for a parsed name, or null when Consul's DNS does not cache such lookups.
 * `source`: the address a prepared query runs near (its asker's, or its EDNS0 client subnet's).
 */
export function cacheQuestion(
  parsed: ParsedName, type: string, klass: string, token: string, cfg: Pick<DnsConfig, 'datacenter' | 'preferNamespace' | 'partition'>, source = '',
): CacheableQuestion | null {
  const q = parsed.query;
  if (!q || (q.kind !== 'service' && q.kind !== 'connect' && q.kind !== 'ingress' && q.kind !== 'node' && q.kind !== 'query')) return null;
  const l = preferringNamespace(q.locality, cfg.preferNamespace);
  const dc = l.datacenter || l.peerOrDatacenter;
  const ownDatacenter = !dc || dc === cfg.datacenter.toLowerCase();
  const near = q.kind === 'query' ? source : '';
  const key = [token, type, klass, parsed.name, near].join('\n');
  const base = { token, name: parsed.name, type, class: klass, ownDatacenter, source: near, key };
  const srv = type === 'SRV';
  // Only a service's imports from a peer, or its sameness group's answer, can be watched; other such answers are kept as fetched.
  if (q.kind === 'query' || ((l.peer || l.samenessGroup) && q.kind !== 'service')) return { ...base, shuffle: false, limit: q.kind !== 'node' && !srv };
  // A name's partition is its .ap, else the agent's (a client agent of another partition answers
  // its plain names there), and a namespace's services are watched in it (nodes are partition-level).
  const ap = l.partition || cfg.partition || '';
  const apParam = ap && ap !== 'default' ? `&partition=${encodeURIComponent(ap)}` : '';
  const nsParam = q.kind !== 'node' && l.namespace && l.namespace !== 'default' ? `&ns=${encodeURIComponent(l.namespace)}` : '';
  // A peer's imports and a sameness group's answer (which moves with any member's) are watched on
  // health/service?peer= and ?sg=: Consul's cache keys its health-services entries by PeerName and
  // SamenessGroup and refreshes them as any other.
  const peerParam = l.peer ? `&peer=${encodeURIComponent(l.peer)}` : '';
  const sgParam = l.samenessGroup ? `&sg=${encodeURIComponent(l.samenessGroup)}` : '';
  const dcParam = `${dc ? `&dc=${encodeURIComponent(dc)}` : ''}${apParam}${nsParam}${peerParam}${sgParam}`;
  const headers: Record<string, string> = token ? { 'x-consul-token': token } : {};
  const watch = (path: string) => ({ key: `${token}\n${path}${dcParam}`, path: `${path}?stale${dcParam}`, headers });
  if (q.kind === 'node') return { ...base, watch: watch(`/v1/catalog/node/${encodeURIComponent(q.node)}`), shuffle: false, limit: false };
  const area = q.kind === 'service' ? 'service' : q.kind;
  return { ...base, watch: watch(`/v1/health/${area}/${encodeURIComponent(q.service)}`), shuffle: true, limit: !srv };
}

/** The question a cache fill asks the server: id 0, recursion desired, no EDNS0. */
export function fillQuery(q: Pick<CacheableQuestion, 'name' | 'type' | 'class'>): Buffer {
  return dnsPacket.encode({
    type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: q.name.replace(/\.$/, ''), type: q.type as 'A', class: q.class as 'IN' }],
  });
}

/** The server's reply as a cached answer; null when it is not one to keep (not NOERROR or NXDOMAIN). */
export function cachedAnswer(reply: Buffer, q: Pick<CacheableQuestion, 'shuffle' | 'limit'>): CachedAnswer | null {
  const p = dnsPacket.decode(reply);
  const rcode = (p.flags ?? 0) & 0xf;
  if (rcode !== 0 && rcode !== 3) return null;
  const noOpt = (a: Answer) => a.type !== 'OPT';
  return {
    rcode, shuffle: q.shuffle, limit: q.limit,
    sections: { answers: p.answers ?? [], authorities: p.authorities ?? [], additionals: (p.additionals ?? []).filter(noOpt) },
  };
}

/** The sections one lookup replays: instances shuffled and limited as the answer asks. */
export function replaySections(a: CachedAnswer, qname: string, cfg: Pick<DnsConfig, 'aRecordLimit'>, random: () => number): Sections {
  if (!a.shuffle && !(a.limit && cfg.aRecordLimit > 0)) return a.sections;
  let groups = instanceGroups(a.sections.answers, qname);
  if (a.shuffle) groups = shuffle(groups, random);
  if (a.limit && cfg.aRecordLimit > 0) groups = groups.slice(0, cfg.aRecordLimit);
  return { ...a.sections, answers: groups.flat() };
}

// An instance's records start with one owned by the question name (its address, CNAME or SRV);
// records of other names (a CNAME target's addresses) and its node's TXT records follow it.
function instanceGroups(answers: Answer[], qname: string): Answer[][] {
  const owner = qname.replace(/\.$/, '').toLowerCase();
  const groups: Answer[][] = [];
  for (const r of answers) {
    const starts = r.name.replace(/\.$/, '').toLowerCase() === owner && r.type !== 'TXT';
    if (starts || groups.length === 0) groups.push([r]);
    else groups[groups.length - 1].push(r);
  }
  return groups;
}
