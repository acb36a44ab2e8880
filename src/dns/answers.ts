// Answers for questions under the Consul domain: services (of a namespace, partition, peer or sameness group: sameness.ts; A/AAAA/CNAME/ANY/SRV), mesh
// endpoints, ingress gateways, nodes, `.addr`, PTR, SOA and NS. NXDOMAIN is thrown as a typed not-found error;
// NODATA is an empty answer (the handler adds the SOA to the authority section for both).
import net from 'node:net';
import type { Answer } from 'dns-packet';
import { NotFoundError } from '../errors.ts';
import { parseGoDuration } from '../duration.ts';
import type { DnsReader, DnsInstance } from '../endpoint/dns-view.ts';
import type { Node } from '../api/catalog-types.ts';
import { serviceTtl, type DnsConfig } from './config.ts';
import { preferringNamespace, type DnsQuery, type Locality } from './name.ts';
import {
  addressRecords, importedInto, metaTxt, nodeFqdn, nsRecords, recordKey, serviceAddressRecords, serviceFqdn,
  soaRecord, srvTarget, srvWeight, wanInstance,
} from './records.ts';
import { shuffle } from '../shuffle.ts';
import { samenessInstances } from './sameness.ts';
import { ACCEPT, wanNodeAddress } from '../endpoint/translate-addr.ts';
import type { EnterpriseMeta } from '../state/tenancy.ts';

/** The sections of a reply. */
export interface Sections {
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** What answering needs besides the question. */
export interface AnswerContext {
  cfg: DnsConfig;
  view: DnsReader;
  random: () => number;
  now: () => number;
  /** The prepared query a `.query` question names, executed beforehand (execution may fail over, answering may not wait). */
  execution?: QueryExecution | Error;
}

/** A prepared query's results as DNS answers them: its service, instances in answer order, and its DNS TTL ('' = service_ttl). */
export interface QueryExecution {
  service: string;
  instances: DnsInstance[];
  ttl: string;
  /** The datacenter the results came from (failover may leave this one). */
  datacenter: string;
}

/** A question: its canonical name (no trailing dot), type and the domain it used. */
export interface Question {
  name: string;
  type: string;
  domain: string;
}

const empty = (): Sections => ({ answers: [], authorities: [], additionals: [] });

/** Answers one parsed question; throws NotFoundError for NXDOMAIN. */
export function answer(q: Question, query: DnsQuery | null, ctx: AnswerContext): Sections {
  // SOA and NS questions are answered for the domain whatever name under it (or under arpa.) they ask about.
  if (q.type === 'SOA' || q.type === 'NS') return authority(q, ctx);
  if (!query) throw new NotFoundError(`invalid name ${q.name}`);
  switch (query.kind) {
    case 'apex': throw new NotFoundError(`invalid name ${q.name}`);
    // An agent of another partition answers its partition's node addresses (Consul reads the agent's partition).
    case 'ptr': return ptr(q, query.ip, ctx.cfg.partition && ctx.cfg.partition !== DEFAULT ? inTenant(ctx, { partition: ctx.cfg.partition, namespace: DEFAULT }) : ctx);
    // The address is in the name: Consul ignores the locality labels of `.addr` names (peers' SRV targets have none).
    case 'addr': return addrAnswer(q, query.ip, ctx.cfg);
    case 'node': {
      if (query.locality.peer) return peerNodeAnswer(q, query.node, query.locality, ctx);
      // Nodes are partition-level: a namespace label changes nothing.
      const ent = localTenancy(query.locality, ctx.cfg, false);
      const c = ent && ent.partition !== DEFAULT ? inTenant(ctx, { partition: ent.partition, namespace: DEFAULT }) : ctx;
      return nodeAnswer(q, query.node, c);
    }
    case 'service':
    case 'connect': {
      if (query.kind === 'service' && query.locality.peer) return peerAnswer(q, query.service, query.tag, query.locality, ctx);
      if (query.kind === 'service' && query.locality.samenessGroup) {
        return instancesAnswer(q, query.service, samenessInstances(query.service, query.tag, query.locality, ctx), ctx);
      }
      const ent = localTenancy(query.locality, ctx.cfg, false);
      return serviceAnswer(q, query.service, query.kind === 'service' ? query.tag : '', query.kind === 'connect', ent ? inTenant(ctx, ent) : ctx);
    }
    case 'virtual': return virtualAnswer(q, query.service, query.locality, ctx);
    case 'ingress': {
      const ent = localTenancy(query.locality, ctx.cfg, false);
      const c = ent ? inTenant(ctx, ent) : ctx;
      const gateways = c.view.ingress?.(query.service, { onlyPassing: ctx.cfg.onlyPassing }) ?? [];
      return instancesAnswer(q, query.service, gateways, c);
    }
    case 'query':
      checkLocal(query.locality, ctx.cfg, false);
      return queryAnswer(q, query.query, ctx);
  }
}

const DEFAULT = 'default';

/**
 * `<service>.virtual[.<ns>.ns][.<ap>.ap]`, and for a service imported from a peer
 * `<service>.virtual[.<ns>].<peer>` or `.virtual[.<ns>.ns].<peer>.peer[.<ap>.ap]`: the service's
 * virtual IP as one A record with the node TTL, in the answer for A and ANY and the additional section
 * for any other type; a service without one is NOERROR with no records (and no SOA), as Consul answers.
 */
function virtualAnswer(q: Question, service: string, locality: Locality, ctx: AnswerContext): Sections {
  const peer = locality.peer || locality.peerOrDatacenter;
  let address: string | undefined;
  if (peer && !locality.datacenter && !locality.samenessGroup) {
    // The peering's partition: the one named, else the agent's.
    const ent = { partition: locality.partition || ctx.cfg.partition || DEFAULT, namespace: locality.namespace || DEFAULT };
    address = ctx.view.virtualIP?.(service, ent, peer);
  } else {
    const ent = localTenancy(locality, ctx.cfg, true);
    if (ent) inTenant(ctx, ent);
    address = ctx.view.virtualIP?.(service, ent);
  }
  const out = empty();
  if (address === undefined) return out;
  // Consul's serializer puts an address record the question did not ask for (AAAA, TXT, MX, …) in the
  // additional section, and the reply stays NOERROR without an SOA. SRV goes the same way: Consul's
  // virtual result has no node to build an SRV target from (its SRV path dereferences it), and a VIP has no port.
  const record = { name: q.name, type: net.isIPv6(address) ? 'AAAA' as const : 'A' as const, class: 'IN' as const, ttl: ctx.cfg.nodeTtl, data: address };
  (q.type === record.type || q.type === 'ANY' ? out.answers : out.additionals).push(record);
  return out;
}

/**
 * The tenant a local question names: its `.ns`/`.ap` labels (or the legacy `<ns>.<dc>` form, or
 * under prefer_namespace a lone label), the agent's partition when it names none; undefined for
 * default/default (the unchanged default path). Throws NXDOMAIN for another datacenter, a peer or
 * a sameness group (only `.service` names take one: sameness.ts), as checkLocal.
 */
export function localTenancy(locality: Locality, cfg: DnsConfig, virtual: boolean): EnterpriseMeta | undefined {
  const l = virtual ? locality : preferringNamespace(locality, cfg.preferNamespace);
  const dc = l.datacenter || (virtual ? '' : l.peerOrDatacenter);
  const peer = l.peer || (virtual ? l.peerOrDatacenter : '');
  if ((dc && dc !== cfg.datacenter.toLowerCase()) || peer || l.samenessGroup) throw new NotFoundError('No path to datacenter');
  const namespace = l.namespace || DEFAULT;
  const partition = l.partition || cfg.partition || DEFAULT;
  return namespace === DEFAULT && partition === DEFAULT ? undefined : { partition, namespace };
}

/** The context answering in a tenant: its reader in place of the view; NXDOMAIN when it does not exist. */
function inTenant(ctx: AnswerContext, ent: EnterpriseMeta): AnswerContext {
  const view = ctx.view.tenant?.(ent);
  if (!view) throw new NotFoundError(`no namespace ${ent.namespace} in partition ${ent.partition}`);
  return { ...ctx, view };
}

/** Only this datacenter, the default namespace and partition, and no peers or sameness groups exist here; throws NXDOMAIN otherwise. */
export function checkLocal(locality: Locality, cfg: DnsConfig, virtual: boolean): void {
  const l = virtual ? locality : preferringNamespace(locality, cfg.preferNamespace);
  const dc = l.datacenter || (virtual ? '' : l.peerOrDatacenter);
  const peer = l.peer || (virtual ? l.peerOrDatacenter : '');
  const ok = (!dc || dc === cfg.datacenter.toLowerCase()) && !peer && !l.samenessGroup
    && (!l.namespace || l.namespace === 'default') && (!l.partition || l.partition === 'default');
  if (!ok) throw new NotFoundError('No path to datacenter');
}

/**
 * `[tag.]<service>.service[.<ns>.ns].<peer>.peer[.<ap>.ap]`: the instances the peer exports to this
 * cluster in that namespace, through that partition's peering (the agent's partition when none is named).
 */
function peerAnswer(q: Question, service: string, tag: string, l: Locality, ctx: AnswerContext): Sections {
  if (l.datacenter || l.peerOrDatacenter || l.samenessGroup) throw new NotFoundError('No path to datacenter');
  const namespace = l.namespace || DEFAULT;
  const partition = l.partition || ctx.cfg.partition || DEFAULT;
  const c = namespace === DEFAULT && partition === DEFAULT ? ctx : inTenant(ctx, { partition, namespace });
  if (!c.view.peerInstances) throw new NotFoundError('No path to datacenter');
  const found = c.view.peerInstances(l.peer, service, { tag, onlyPassing: ctx.cfg.onlyPassing });
  return instancesAnswer(q, service, importedInto(found, partition), c);
}

/**
 * `<node>.node.<peer>.peer[.<ap>.ap]`: a node the peer exports instances of to that partition (the
 * agent's when none is named), as Consul looks a node up with the peer's name (peers' SRV targets).
 */
function peerNodeAnswer(q: Question, name: string, l: Locality, ctx: AnswerContext): Sections {
  if (l.datacenter || l.peerOrDatacenter || l.samenessGroup) throw new NotFoundError('No path to datacenter');
  const partition = l.partition || ctx.cfg.partition || DEFAULT;
  const c = partition === DEFAULT ? ctx : inTenant(ctx, { partition, namespace: DEFAULT });
  const node = c.view.peerNode?.(l.peer, name);
  if (!node) throw new NotFoundError(`no node ${name} of peer ${l.peer}`);
  return nodeRecords(q, node, c);
}

function authority(q: Question, ctx: AnswerContext): Sections {
  const out = empty();
  const { ns, glue } = nsRecords(servers(ctx), q.domain, ctx.cfg);
  if (q.type === 'SOA') {
    out.answers.push(soaRecord(q.domain, ctx.cfg, ctx.now()));
    out.authorities.push(...ns);
  } else out.answers.push(...ns);
  out.additionals.push(...glue);
  return out;
}

function servers(ctx: AnswerContext): DnsInstance[] {
  return shuffle(ctx.view.instances('consul'), ctx.random);
}

function ptr(q: Question, ip: string, ctx: AnswerContext): Sections {
  const node = ctx.view.nodeByAddress(ip);
  const svc = node ? undefined : ctx.view.serviceByAddress(ip);
  if (!node && !svc) throw new NotFoundError(`no node or service with address ${ip}`);
  const data = node ? nodeFqdn(node.Node, ctx.cfg, q.domain).replace(/\.$/, '') : serviceFqdn(svc!, ctx.cfg, q.domain);
  return { ...empty(), answers: [{ type: 'PTR', name: q.name, ttl: 0, data }] };
}

/** The address a `.addr` name encodes: an answer for A (IPv4), AAAA (IPv6) or ANY, else an additional record (as Consul places it). */
function addrAnswer(q: Question, ip: string, cfg: DnsConfig): Sections {
  const type = ip.includes(':') ? 'AAAA' : 'A';
  const record: Answer = { type, name: q.name, ttl: cfg.nodeTtl, data: ip };
  return q.type === type || q.type === 'ANY' ? { ...empty(), answers: [record] } : { ...empty(), additionals: [record] };
}

function nodeAnswer(q: Question, name: string, ctx: AnswerContext): Sections {
  const node = ctx.view.node(name);
  if (!node) throw new NotFoundError(`no node ${name}`);
  return nodeRecords(q, node, ctx);
}

/** The records answering a node question: its address (SRV: its name, weight and port 0), its meta TXT. */
function nodeRecords(q: Question, node: Node, ctx: AnswerContext): Sections {
  const out = empty();
  const ttl = ctx.cfg.nodeTtl;
  const address = ctx.cfg.wanAddresses ? wanNodeAddress(node.Address, node.TaggedAddresses, ACCEPT.any) : node.Address;
  if (net.isIP(address) && (q.type === 'SRV' || q.type === 'TXT')) {
    // As Consul's DNS server: SRV answers the node's name (weight and port 0), TXT the meta; the address is additional.
    const target = nodeFqdn(node.Node, ctx.cfg, q.domain).replace(/\.$/, '');
    if (q.type === 'SRV') out.answers.push({ type: 'SRV', name: q.name, ttl, data: { priority: 1, weight: 0, port: 0, target } });
    out.additionals.push(...addressRecords(q.type === 'SRV' ? target : q.name, address, 'ANY', ttl));
  } else out.answers.push(...addressRecords(q.name, address, q.type, ttl));
  // The meta goes with every other type when enable_additional_node_meta_txt, even with no answer (then NOERROR without SOA).
  if (q.type === 'TXT' || q.type === 'ANY') out.answers.push(...metaTxt(q.name, node, ttl));
  else if (ctx.cfg.nodeMetaTxt) out.additionals.push(...metaTxt(q.name, node, ttl));
  return out;
}

function serviceAnswer(q: Question, service: string, tag: string, connect: boolean, ctx: AnswerContext): Sections {
  return instancesAnswer(q, service, ctx.view.instances(service, { connect, tag, onlyPassing: ctx.cfg.onlyPassing }), ctx);
}

/** The answer for the healthy instances found for `service` (its own, its mesh endpoints or its ingress gateways); NXDOMAIN when none. */
function instancesAnswer(q: Question, service: string, found: DnsInstance[], ctx: AnswerContext): Sections {
  if (found.length === 0) throw new NotFoundError(`no healthy instance of ${service}`);
  const instances = shuffle(found.slice(), ctx.random);
  const ttl = serviceTtl(ctx.cfg, service);
  return q.type === 'SRV' ? srvAnswer(q, instances, ttl, ctx) : addressAnswer(q, instances, ttl, ctx);
}

function queryAnswer(q: Question, name: string, ctx: AnswerContext): Sections {
  const ex = ctx.execution;
  if (ex instanceof Error) throw ex;
  if (!ex || ex.instances.length === 0) throw new NotFoundError(`no prepared query results for ${name}`);
  // Execution already shuffled and sorted the instances (near); keep its order.
  const ms = ex.ttl ? parseGoDuration(ex.ttl) : null;
  // Without a query TTL, service_ttl is looked up by the query's name as asked (its ID, or the name
  // without RFC 2782 underscores), as Consul's current server does (getTTLForResult with the
  // question's name); before 1.19 it was the query's service.
  const ttl = ms !== null && ms >= 0 ? Math.floor(ms / 1000) : serviceTtl(ctx.cfg, name);
  // Results another datacenter gave (failover) show its WAN addresses under translate_wan_addrs.
  const remote = ctx.cfg.translateWanAddrs && ex.datacenter !== '' && ex.datacenter !== ctx.cfg.datacenter;
  const c = remote && !ctx.cfg.wanAddresses ? { ...ctx, cfg: { ...ctx.cfg, wanAddresses: true } } : ctx;
  return q.type === 'SRV' ? srvAnswer(q, ex.instances, ttl, c) : addressAnswer(q, ex.instances, ttl, c);
}

/** The records one instance contributes to a service answer: its answers and the additional records resolving them. */
export function instanceRecords(q: Question, instance: DnsInstance, ttl: number, cfg: DnsConfig): { answers: Answer[]; extras: Answer[] } {
  const i = cfg.wanAddresses ? wanInstance(instance, q.type) : instance;
  if (q.type === 'SRV') {
    const { target, extra } = srvTarget(i, cfg, q.domain, ttl, q.name);
    return { answers: [{ type: 'SRV', name: q.name, ttl, data: { priority: 1, weight: srvWeight(i), port: i.service.Port, target } }], extras: extra };
  }
  // Node meta goes only into SRV additionals (Consul's shouldAppendTXTRecord); a TXT question gets
  // the instance's IP as an additional record (a hostname still answers a CNAME), as Consul places it.
  if (q.type === 'TXT') {
    const any = serviceAddressRecords(q.name, i, 'ANY', ttl);
    return any[0]?.type === 'CNAME' ? { answers: any, extras: [] } : { answers: [], extras: any };
  }
  return { answers: serviceAddressRecords(q.name, i, q.type, ttl), extras: [] };
}

/** What makes two instances one SRV answer (Consul's node:address:port tuple). */
export function srvTuple(i: DnsInstance): string {
  return `${i.node.Node}\0${i.service.Address}\0${i.service.Port}`;
}

/** SRV answers, one per node, address and port (the first in answer order of instances sharing them). */
function srvAnswer(q: Question, instances: DnsInstance[], ttl: number, ctx: AnswerContext): Sections {
  const out = empty();
  const seen = new Set<string>();
  const handled = new Set<string>();
  for (const i of instances) {
    const tuple = srvTuple(i);
    if (handled.has(tuple)) continue;
    handled.add(tuple);
    const { answers, extras } = instanceRecords(q, i, ttl, ctx.cfg);
    out.answers.push(...answers);
    for (const r of extras) {
      const k = recordKey(r);
      if (!seen.has(k)) seen.add(k), out.additionals.push(r);
    }
  }
  return out;
}

/**
 * Address answers, one instance's records at a time (de-duplicated, a_record_limit instances).
 * Instances with a hostname address (a CNAME) count only when no instance has an IP: then the
 * first CNAME is the answer (a name may own a CNAME and nothing else), as Consul answers.
 */
function addressAnswer(q: Question, instances: DnsInstance[], ttl: number, ctx: AnswerContext): Sections {
  const out = empty();
  const seen = new Set<string>();
  let cname: Answer[] | null = null;
  let count = 0;
  for (const i of instances) {
    const records = instanceRecords(q, i, ttl, ctx.cfg);
    // Consul adds every instance's additional records, before de-duplicating answers.
    out.additionals.push(...records.extras);
    const fresh = records.answers.filter((r) => !seen.has(recordKey(r)));
    if (fresh.length === 0) continue;
    for (const r of fresh) seen.add(recordKey(r));
    if (fresh[0].type === 'CNAME') {
      cname ??= fresh;
      continue;
    }
    out.answers.push(...fresh);
    if (++count === ctx.cfg.aRecordLimit) break;
  }
  if (out.answers.length === 0 && cname) out.answers.push(...cname);
  return out;
}
