// DNS on a client agent, answered under the client's own configuration as Consul's agents do:
// header checks, names outside its domain and alt_domain (its recursors, else REFUSED) and
// recursion run here in the same DnsHandler servers use; a question under its domains is posted,
// as the raw message with the client's settings (config-wire.ts) and DNS token, to a server's
// internal RPC listener, whose handler answers it under those settings from the server's catalog
// replica (reverse names the catalog does not know come back for the client's recursors). When
// no server answers, the client replies SERVFAIL itself. Hostname addresses (CNAME answers, SRV
// targets) are resolved here with the client's own recursors, as Consul's client agents resolve
// them: the server leaves them to the client with the whole answer, which the client completes
// (names under its domain asked of a server as ANY questions) and fits to the transport. With
// dns_config.use_cache, service, node and prepared-query lookups are answered from the client's
// cache (dns-cache.ts) of the server's answers, asked with stale reads allowed as Consul's cache
// asks them; hostnames in a cached answer are resolved per lookup, as Consul resolves them.
// Questions wait on the servers through one bounded queue (dns/upstream-queue.ts): identical
// questions asked at once share one server request, at most 256 requests run at once, and under
// a flood the oldest waiting questions are answered SERVFAIL and those older than 2 s dropped.
import dnsPacket from 'dns-packet';
import { DnsHandler, RCODE, clientSubnet, errorReply, parseName, type DnsConfig, type ParsedName } from '../dns/index.ts';
import type { Sections } from '../dns/answers.ts';
import { DNS_CONFIG_HEADER, encodeDnsConfig } from '../dns/config-wire.ts';
import { keyName, readQuery } from '../dns/wire.ts';
import { QuestionExpired, QuestionShed, UpstreamQueue, questionBytes, replyWithId, shedReply, type UpstreamQueueOptions } from '../dns/index.ts';
import { systemClock, type Clock } from '../clock.ts';
import { DnsCache, type Fetched, type WatchSpec } from './dns-cache.ts';
import { cachedAnswer, cacheQuestion, fillQuery, replaySections, type CachedAnswer, type CacheableQuestion } from './dns-cached-answer.ts';
import { EMPTY_DNS_READER } from '../endpoint/dns-view.ts';
import type { Logger } from '../log.ts';
import type { Forwarder, ServerSource } from './forward.ts';
import { DNS_AGENT_HEADER, DNS_HOSTNAMES_HEADER, DNS_MESSAGE_TYPE, DNS_RECURSE_HEADER, DNS_RPC_PATH, DNS_SOURCE_HEADER } from './rpc-server.ts';

/** Asks a server to leave hostname addresses to this agent (rpc-server.ts). */
const RESOLVES_HOSTNAMES = { [DNS_HOSTNAMES_HEADER]: 'client' };

/** Headers every question to a server carries: hostnames left to this agent, and its node for `_agent`. */
function agentHeaders(d: RemoteDnsDeps): Record<string, string> {
  return d.nodeName ? { ...RESOLVES_HOSTNAMES, [DNS_AGENT_HEADER]: d.nodeName } : RESOLVES_HOSTNAMES;
}

/** What the remote handler needs. */
export interface RemoteDnsDeps {
  forwarder: Forwarder;
  servers: ServerSource;
  /** This agent's node name: a prepared query's Near `_agent` (sent to the servers with every question). */
  nodeName?: string;
  /** The client's DNS settings at start (dnsConfigFrom of its runtime configuration). */
  cfg: DnsConfig;
  /** acl.tokens.dns, else the default token, read per query. */
  token(): string;
  logger: Logger;
  random?: () => number;
  now?: () => number;
  /** The DNS cache's clock (default: the system clock). */
  clock?: Clock;
  /** Most answers the DNS cache holds. */
  cacheEntries?: number;
  /** Bounds of the questions waiting on the servers (dns/upstream-queue.ts defaults). */
  queue?: Omit<UpstreamQueueOptions, 'clock'>;
}

/** The client's DNS handler; reload() takes new settings (agent reload), as Consul's agent does. */
export interface RemoteDnsHandler extends Pick<DnsHandler, 'answerNow' | 'handle'> {
  reload(cfg: DnsConfig): void;
  /** Stops the DNS cache's background refreshes. */
  close(): void;
}

/** A DnsServer handler that answers the client's names through a server and recurses itself. */
export function remoteDnsHandler(d: RemoteDnsDeps): RemoteDnsHandler {
  let cfg = d.cfg;
  let settings = encodeDnsConfig(cfg);
  const agent = agentHeaders(d);
  const headers = (token: string): Record<string, string> => ({
    'content-type': DNS_MESSAGE_TYPE, [DNS_CONFIG_HEADER]: settings, ...agent, ...(token ? { 'x-consul-token': token } : {}),
  });
  // A hostname under the client's domains met while resolving hostnames: a server answers it.
  const queue = new UpstreamQueue({ ...d.queue, clock: d.clock });
  const domainAnswer = async (name: string): Promise<Sections> => {
    const token = d.token();
    const res = await queue.run(`any\n${token}\n${name}`, (signal) => d.forwarder.send(d.servers, {
      method: 'POST', url: `${DNS_RPC_PATH}?transport=tcp`, body: fillQuery({ name, type: 'ANY', class: 'IN' }), headers: headers(token), signal,
    }));
    const a = res.status === 200 ? cachedAnswer(res.body, { shuffle: false, limit: false }) : null;
    if (!a) throw new Error(`the server could not answer ${name}: ${res.status}`);
    return a.sections;
  };
  // Knows no catalog: it only ever rejects headers, recurses, refuses, resolves hostnames or replays answers.
  const ownHandler = (): DnsHandler => new DnsHandler({ cfg, view: EMPTY_DNS_READER, logger: d.logger, random: d.random, now: d.now, fastPath: false, domainAnswer });
  let own = ownHandler();
  let cache = cfg.useCache ? answerCache(d, cfg) : null;
  // Under the client's domains or arpa (the type changes what a name asks, never whether it is ours): what it asks, else null.
  const ours = (msg: Buffer): ParsedName | null => {
    const name = questionName(msg);
    return name === null ? null : parseName(name, 'A', cfg.domain, cfg.altDomain);
  };
  // A question the queue gave up on: SERVFAIL when shed, nothing when it waited too long.
  const gaveUp = (err: unknown, msg: Buffer): Buffer | null | undefined => {
    if (err instanceof QuestionExpired) return null;
    if (err instanceof QuestionShed) return shedReply(msg, cfg.recursors.length > 0);
    return undefined;
  };
  const cached = async (c: DnsCache<CachedAnswer>, q: CacheableQuestion, msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | null> => {
    try {
      const a = c.peek(q) ?? await queue.run(`cache\n${q.key}`, (signal) => c.get(q, signal));
      return await own.replyResolving(msg, a.rcode, replaySections(a, q.name, cfg, d.random ?? Math.random), transport);
    } catch (err) {
      const given = gaveUp(err, msg);
      if (given !== undefined) return given;
      d.logger.warn({ error: (err as Error).message, name: q.name }, 'DNS lookup from the agent cache failed');
      return servfail(msg, cfg.recursors.length > 0);
    }
  };
  return {
    reload(next) {
      const was = cfg;
      cfg = next;
      own = ownHandler();
      settings = encodeDnsConfig(cfg);
      if (!cache && !cfg.useCache) return;
      // Cached answers were asked under the old settings: start afresh.
      if (was.useCache !== cfg.useCache || was.cacheMaxAgeMs !== cfg.cacheMaxAgeMs || encodeDnsConfig(was) !== settings) {
        cache?.close();
        cache = cfg.useCache ? answerCache(d, cfg) : null;
      }
    },
    close() {
      cache?.close();
    },
    answerNow: (msg, transport) => own.answerNow(msg, transport),
    async handle(msg, transport, source = '') {
      const parsed = ours(msg);
      if (!parsed) return own.handle(msg, transport);
      const token = d.token();
      // A prepared query runs near the asker (or its EDNS0 client subnet): the server is told who asked.
      const from = parsed.query?.kind === 'query' ? source.replace(/^::ffff:/, '') : '';
      const q = cache ? cacheable(msg, cfg, token, from) : null;
      if (cache && q) return cached(cache, q, msg, transport);
      try {
        // Identical questions asked at once (all but the ID) share one server request.
        const key = `fwd\n${transport}\n${token}\n${from}\n${questionBytes(msg)}`;
        const hdrs = from ? { ...headers(token), [DNS_SOURCE_HEADER]: from } : headers(token);
        const res = await queue.run(key, (signal) => d.forwarder.send(d.servers, {
          method: 'POST', url: `${DNS_RPC_PATH}?transport=${transport}`, body: msg, headers: hdrs, signal,
        }));
        // A reverse name the catalog does not know: the client's recursors answer it.
        if (res.headers[DNS_RECURSE_HEADER] !== undefined) return own.handle(msg, transport);
        if (res.status === 204) return null;
        // The whole answer, its hostname addresses left to this agent's recursors.
        const whole = res.status === 200 && res.headers[DNS_HOSTNAMES_HEADER] !== undefined ? cachedAnswer(res.body, { shuffle: false, limit: false }) : null;
        if (whole) return await own.replyResolving(msg, whole.rcode, whole.sections, transport);
        if (res.status === 200) return replyWithId(res.body, msg);
        d.logger.warn({ status: res.status, error: res.body.toString('utf8').trim() }, 'DNS query failed on the server');
      } catch (err) {
        const given = gaveUp(err, msg);
        if (given !== undefined) return given;
        d.logger.warn({ error: (err as Error).message }, 'DNS query could not reach a server');
      }
      return servfail(msg, cfg.recursors.length > 0);
    },
  };
}

/**
 * The cache question of a lookup Consul's DNS answers from its agent cache, else null; `source`:
 * the asker's IP for a prepared query, which runs near its EDNS0 client subnet when it has one.
 */
function cacheable(msg: Buffer, cfg: DnsConfig, token: string, source: string): CacheableQuestion | null {
  try {
    const req = dnsPacket.decode(msg);
    const q = req.questions?.[0];
    if (!q) return null;
    const parsed = parseName(q.name, q.type, cfg.domain, cfg.altDomain);
    return parsed ? cacheQuestion(parsed, q.type, q.class ?? 'IN', token, cfg, clientSubnet(req) ?? source) : null;
  } catch {
    return null;
  }
}

/**
 * The client's cache of server answers: filled by asking over TCP without a_record_limit and with
 * stale reads allowed (use_cache implies allow_stale), refreshed by blocking reads of the catalog.
 */
function answerCache(d: RemoteDnsDeps, cfg: DnsConfig): DnsCache<CachedAnswer> {
  const fill = encodeDnsConfig({ ...cfg, allowStale: true, aRecordLimit: 0 });
  const tokenHeader = (token: string): Record<string, string> => (token ? { 'x-consul-token': token } : {});
  return new DnsCache<CachedAnswer>({
    clock: d.clock ?? systemClock, maxAgeMs: cfg.cacheMaxAgeMs, maxEntries: d.cacheEntries, logger: d.logger, random: d.random,
    async fetch(cq, signal): Promise<Fetched<CachedAnswer>> {
      const q = cq as CacheableQuestion;
      const source: Record<string, string> = q.source ? { [DNS_SOURCE_HEADER]: q.source } : {};
      // Hostname addresses stay unresolved in the cache: each lookup resolves them (replyResolving).
      const res = await d.forwarder.send(d.servers, {
        method: 'POST', url: `${DNS_RPC_PATH}?transport=tcp`, body: fillQuery(q), signal,
        headers: { 'content-type': DNS_MESSAGE_TYPE, [DNS_CONFIG_HEADER]: fill, ...agentHeaders(d), ...tokenHeader(q.token), ...source },
      });
      if (res.status !== 200) throw new Error(`DNS query failed on the server: ${res.status} ${res.body.toString('utf8').trim()}`);
      const value = cachedAnswer(res.body, q);
      if (!value) throw new Error('the server could not answer the DNS query');
      // The server's replica revision before it answered: its watch starts there.
      const index = q.ownDatacenter ? Number(res.headers['X-Consul-Index'] ?? 0) || 0 : 0;
      return { value, index };
    },
    async watch(w: WatchSpec, index: number, signal: AbortSignal): Promise<number> {
      const res = await d.forwarder.send(d.servers, { method: 'GET', url: `${w.path}&index=${index}&wait=10m`, headers: w.headers, signal });
      if (res.status !== 200) throw new Error(`blocking read failed: ${res.status} ${res.body.toString('utf8').trim()}`);
      return Number(res.headers['X-Consul-Index'] ?? 0) || 0;
    },
  });
}

/** The question's name: read in place for plain queries, else decoded; null when there is none. */
function questionName(msg: Buffer): string | null {
  const wq = readQuery(msg);
  if (wq) return keyName(wq.key);
  try {
    return dnsPacket.decode(msg).questions?.[0]?.name ?? null;
  } catch {
    return null;
  }
}

/** The SERVFAIL of a question under our domain no server answered, as Consul's handleQuery writes it (AA, EDNS0 echoed). */
function servfail(msg: Buffer, recursion: boolean): Buffer | null {
  return errorReply(msg, RCODE.SERVFAIL, { authoritative: true, recursionAvailable: recursion });
}
