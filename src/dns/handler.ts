// One DNS message in, one reply out, with no sockets: header checks as miekg/dns does them
// (FORMERR, NOTIMP), routing by domain (Consul, arpa, recursors, else REFUSED), the answer,
// EDNS0 echo, trimming to the transport, and encoding. Never throws on client input.
import { randomInt } from 'node:crypto';
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import type { Logger } from '../log.ts';
import type { DnsReader } from '../endpoint/dns-view.ts';
import type { DnsConfig } from './config.ts';
import { parseName, type ParsedName } from './name.ts';
import { answer, checkLocal, type QueryExecution, type Sections } from './answers.ts';
import { soaRecord } from './records.ts';
import { fitReply, syncExtra } from './truncate.ts';
import { MessageWriter, packQuestion, packRecord } from './pack.ts';
import { recurse, tcpExchange, udpExchange, type Acceptance, type Exchange } from './recursor.ts';
import { RCODE, rcodeFor } from './errors.ts';
import { PreparedAnswers } from './prepared.ts';
import { readQuery } from './wire.ts';
import { HostnamesDelegated, hostnamesOf, MAX_RECURSION_LEVEL, withHostnames } from './hostnames.ts';
import { QuestionExpired, QuestionShed, shedReply } from './upstream-queue.ts';
import { clientSubnet, ednsOf } from './edns.ts';

/** Dependencies of the handler. */
export interface DnsHandlerDeps {
  cfg: DnsConfig;
  view: DnsReader;
  logger: Logger;
  random?: () => number;
  now?: () => number;
  /** Upstream exchange for recursion (tests inject one). */
  exchange?: Exchange;
  /** Queries allowed to wait on recursors at once; more are answered SERVFAIL at once. */
  maxRecursions?: number;
  /** Prepared answers for plain service queries (default true; tests compare with the general path). */
  fastPath?: boolean;
  /**
   * Replaces asking `cfg.recursors` (the raw query in, the raw reply or null out): a server
   * answering for a client agent rejects with RecursionDelegated, the client asks its own.
   */
  recursion?: (msg: Buffer) => Promise<Buffer | null>;
  /**
   * Executes a prepared query for `.query` questions under the view's DNS token, near `ip` and, for
   * Near `_agent`, the asking agent's node (`agentNode`, '' for this one) of `agentDatacenter` ('' for
   * this one); absent: such names are NXDOMAIN.
   */
  queries?: (name: string, token: string, ip: string, agentNode: string, agentDatacenter: string) => Promise<QueryExecution>;
  /**
   * Leaves hostname addresses to the asker (a client agent resolving them with its own recursors):
   * an answer with hostnames to resolve is thrown as HostnamesDelegated instead of resolved here.
   */
  delegateHostnames?: boolean;
  /**
   * The (unresolved) answer to an ANY question for a hostname under our domain met while resolving
   * hostnames; absent: answered from the view. A client agent asks a server.
   */
  domainAnswer?: (name: string) => Promise<Sections>;
}

type Optional = 'recursion' | 'queries' | 'delegateHostnames' | 'domainAnswer';

const QR = 0x8000;
const OPCODE_MASK = 0x7800;
/** The request's header bits a reply keeps: opcode, and RD and CD of a QUERY (miekg's SetReply copies them for that opcode only). */
const ECHOED = OPCODE_MASK | dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED;
/** NOTIFY, the one opcode besides QUERY that miekg's default accept function lets through (answered as a query). */
const OPCODE_NOTIFY = 4;
/** #checkHeader's verdict on an accepted NOTIFY: to be answered by the general path. */
const GENERAL = false;
/** The request's bits a rejection keeps: miekg answers with the request's own header, AA, Z and the rcode reset (TC, RD, RA, AD, CD). */
const KEPT_ON_REJECT = 0x0200 | 0x0100 | 0x0080 | 0x0020 | 0x0010;

/** Answers raw DNS messages. */
export class DnsHandler {
  readonly #d: Required<Omit<DnsHandlerDeps, Optional>> & Pick<DnsHandlerDeps, Optional>;
  readonly #prepared: PreparedAnswers | null;
  readonly #writer = new MessageWriter();
  #recursing = 0;
  #questions = 0;

  constructor(deps: DnsHandlerDeps) {
    this.#d = { random: Math.random, now: Date.now, exchange: undefined!, maxRecursions: 256, fastPath: true, ...deps };
    this.#prepared = this.#d.fastPath ? new PreparedAnswers({ cfg: this.#d.cfg, view: this.#d.view, random: this.#d.random }) : null;
  }

  /** A handler over the same configuration and view with some dependencies replaced. */
  derive(overrides: Partial<DnsHandlerDeps>): DnsHandler {
    return new DnsHandler({ ...this.#d, ...overrides });
  }

  /**
   * The reply when it is known without waiting: header rejections (null: send nothing) and
   * plain service queries answered from prepared records; undefined means call handle().
   */
  answerNow(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | null | undefined {
    this.#questions++;
    const early = this.#checkHeader(msg);
    if (early !== undefined || !this.#prepared) return early === GENERAL ? undefined : early;
    const wq = readQuery(msg);
    return wq ? this.#prepared.reply(msg, wq, transport) : undefined;
  }

  /** How many messages answerNow() has seen (handle() passes each through it): how busy the handler is. */
  get questions(): number {
    return this.#questions;
  }

  /**
   * Replies to one message (`source`: the asker's IP, for prepared queries near `_ip`; `agentNode`:
   * the client agent that asked, for `_agent`, '' for this one; `agentDatacenter`: the asking agent's
   * datacenter when a server of another one forwarded the question, else ''); null means send
   * nothing (too short, or not a query).
   */
  async handle(msg: Buffer, transport: 'udp' | 'tcp', source = '', agentNode = '', agentDatacenter = ''): Promise<Buffer | null> {
    const now = this.answerNow(msg, transport);
    // Past answerNow the header is known to be acceptable.
    if (now !== undefined) return now;
    const req = decodeRequest(msg);
    if (!req) return rejectReply(msg, RCODE.FORMERR);
    const q = req.questions![0];
    const parsed = parseName(q.name, q.type, this.#d.cfg.domain, this.#d.cfg.altDomain);
    const canRecurse = this.#d.cfg.recursors.length > 0;
    if (!parsed) return canRecurse ? this.#recurse(msg, req, transport) : encodeSafe(this.#reply(req, RCODE.REFUSED, false), msg);
    // Reverse names Consul does not know are passed on to the recursors.
    const arpa = parsed.name.endsWith('arpa.');
    if (arpa && canRecurse && !this.#hasPtr(parsed)) return this.#recurse(msg, req, transport);
    // A prepared query runs near the EDNS0 client subnet's address when one is given, else the asker's (Consul's Source.Ip).
    const execution = parsed.query?.kind === 'query' ? await this.#execute(parsed.query, clientSubnet(req) ?? source, agentNode, agentDatacenter) : undefined;
    // The execution's queue gave up on the question (upstream-queue.ts).
    if (execution instanceof QuestionExpired) return null;
    if (execution instanceof QuestionShed) return shedReply(msg, canRecurse);
    return this.#answer(msg, req, parsed, transport, execution);
  }

  /** Runs the prepared query a `.query` name names (locally held ones only: other datacenters were forwarded before). */
  async #execute(query: Extract<NonNullable<ParsedName['query']>, { kind: 'query' }>, source: string, agentNode: string, agentDatacenter: string): Promise<QueryExecution | Error | undefined> {
    if (!this.#d.queries) return undefined;
    try {
      checkLocal(query.locality, this.#d.cfg, false);
      return await this.#d.queries(query.query, this.#d.view.token?.() ?? '', source.replace(/^::ffff:/, ''), agentNode, agentDatacenter);
    } catch (err) {
      return err as Error;
    }
  }

  /**
   * A reply to `msg` carrying `sections` another handler answered earlier (a client agent's DNS
   * cache): this handler's flags, the request's id and EDNS0 echo, fitted to the transport.
   * Header rejections and unparsable messages are answered as handle() answers them.
   */
  replyWith(msg: Buffer, rcode: number, sections: Sections, transport: 'udp' | 'tcp'): Buffer | null {
    const early = this.#checkHeader(msg);
    if (early !== undefined && early !== GENERAL) return early;
    const req = decodeRequest(msg);
    if (!req) return rejectReply(msg, RCODE.FORMERR);
    // A prepared query's answer holds only for the asker's subnet, as handle() echoes it.
    const scoped = rcode === RCODE.NOERROR && clientSubnet(req) !== undefined && this.#isQuery(req);
    const edns = ednsOf(req, scoped);
    const additionals = edns ? [...sections.additionals, edns.opt] : sections.additionals;
    const qname = req.questions![0].name.toLowerCase().replace(/\.$/, '');
    try {
      return this.#pack(req, rcode, qname, { ...sections, additionals }, transport, edns?.size ?? null);
    } catch {
      return headerReply(msg, RCODE.SERVFAIL);
    }
  }

  /**
   * replyWith() after resolving the hostname addresses in `sections` as handle() resolves them
   * (hostnames.ts): a client agent completes a server's answer that left them to it.
   */
  async replyResolving(msg: Buffer, rcode: number, sections: Sections, transport: 'udp' | 'tcp'): Promise<Buffer | null> {
    // Only CNAME and SRV answers can name a hostname: spare the decode for the others.
    const maybe = rcode === RCODE.NOERROR && sections.answers.some((a) => a.type === 'CNAME' || a.type === 'SRV');
    const verdict = maybe ? this.#checkHeader(msg) : null;
    const req = verdict === undefined || verdict === GENERAL ? decodeRequest(msg) : null;
    const type = req?.questions![0].type;
    if (req && type && hostnamesOf(sections, type).length > 0) {
      sections = await withHostnames(sections, type, ednsOf(req) !== null, MAX_RECURSION_LEVEL, this.#resolveHostname);
    }
    return this.replyWith(msg, rcode, sections, transport);
  }

  /**
   * miekg's accept rules: drop responses and runts; NOTIMP opcodes other than QUERY and NOTIFY;
   * FORMERR odd counts; an accepted NOTIFY is GENERAL (the prepared replies are QUERY replies).
   */
  #checkHeader(msg: Buffer): Buffer | null | undefined | typeof GENERAL {
    // Byte reads: readUInt16BE's argument checks cost more than the rest on the hot path.
    if (msg.length < 12) return null;
    const flags = (msg[2] << 8) | msg[3];
    if (flags & QR) return null;
    const opcode = (flags & OPCODE_MASK) >> 11;
    if (msg[4] !== 0 || msg[5] !== 1 || msg[6] !== 0 || msg[7] > 1 || msg[8] !== 0 || msg[9] > 1 || msg[10] !== 0 || msg[11] > 2) {
      return rejectReply(msg, opcode === 0 || opcode === OPCODE_NOTIFY ? RCODE.FORMERR : RCODE.NOTIMP);
    }
    if (opcode !== 0) return opcode === OPCODE_NOTIFY ? GENERAL : rejectReply(msg, RCODE.NOTIMP);
    return undefined;
  }

  #isQuery(req: DecodedPacket): boolean {
    const q = req.questions![0];
    return parseName(q.name, q.type, this.#d.cfg.domain, this.#d.cfg.altDomain)?.query?.kind === 'query';
  }

  #hasPtr(parsed: ParsedName): boolean {
    if (parsed.query?.kind !== 'ptr') return false;
    const ip = parsed.query.ip;
    return !!(this.#d.view.nodeByAddress(ip) ?? this.#d.view.serviceByAddress(ip));
  }

  /** The reply for a name under our domain; it waits only when a hostname address is to be resolved (hostnames.ts). */
  #answer(msg: Buffer, req: DecodedPacket, parsed: ParsedName, transport: 'udp' | 'tcp', execution?: QueryExecution | Error): Buffer | Promise<Buffer> {
    const { cfg } = this.#d;
    const q = { name: parsed.name.replace(/\.$/, ''), type: req.questions![0].type, domain: parsed.domain };
    let rcode: number = RCODE.NOERROR;
    let sections: Sections = { answers: [], authorities: [], additionals: [] };
    try {
      sections = answer(q, parsed.query, { cfg, view: this.#d.view, random: this.#d.random, now: this.#d.now, execution });
    } catch (err) {
      rcode = rcodeFor(err);
      if (rcode === RCODE.SERVFAIL) this.#d.logger.error({ err, name: q.name }, 'dns query failed');
    }
    if (rcode === RCODE.NOERROR && hostnamesOf(sections, q.type).length > 0) {
      if (this.#d.delegateHostnames) throw new HostnamesDelegated(this.#finish(msg, req, parsed, 'tcp', rcode, sections));
      return withHostnames(sections, q.type, ednsOf(req) !== null, MAX_RECURSION_LEVEL, this.#resolveHostname)
        .then((s) => this.#finish(msg, req, parsed, transport, rcode, s));
    }
    return this.#finish(msg, req, parsed, transport, rcode, sections);
  }

  /**
   * What a hostname address resolves to, as Consul's resolveCNAME: a name under our domain is
   * answered here as an ANY question (`level` deep at most), any other is asked of the recursors
   * as an A question, the first reply taken whatever its rcode (a SERVFAIL's answers, often none,
   * and the next recursor not asked); [] when there are none or none replies.
   */
  readonly #resolveHostname = async (name: string, level: number): Promise<Answer[]> => {
    const { cfg } = this.#d;
    const parsed = parseName(name, 'ANY', cfg.domain, cfg.altDomain);
    if (parsed) {
      if (level < 1) return [];
      const q = { name: parsed.name.replace(/\.$/, ''), type: 'ANY', domain: parsed.domain };
      const { domainAnswer } = this.#d;
      const s = domainAnswer ? await domainAnswer(q.name) : answer(q, parsed.query, { cfg, view: this.#d.view, random: this.#d.random, now: this.#d.now });
      return (await withHostnames(s, 'ANY', true, level - 1, this.#resolveHostname)).answers;
    }
    if (cfg.recursors.length === 0) return [];
    const query = dnsPacket.encode({ type: 'query', id: randomInt(0x10000), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
    const reply = await this.#upstream(query, 'udp', 'any');
    return reply ? dnsPacket.decode(reply).answers ?? [] : [];
  };

  #finish(msg: Buffer, req: DecodedPacket, parsed: ParsedName, transport: 'udp' | 'tcp', rcode: number, sections: Sections): Buffer {
    const { cfg } = this.#d;
    let authorities = sections.authorities;
    // Consul adds the SOA to NXDOMAIN, and to NOERROR only when neither answers nor additional records were found.
    // A virtual lookup without a virtual IP is the exception: NOERROR, empty.
    const nodata = rcode === RCODE.NOERROR && sections.answers.length === 0 && sections.additionals.length === 0 && parsed.query?.kind !== 'virtual';
    if (rcode === RCODE.NXDOMAIN || nodata) authorities = [soaRecord(parsed.domain, cfg, this.#d.now())];
    // Prepared query answers depend on the asker's place: valid only for its subnet.
    const edns = ednsOf(req, parsed.query?.kind === 'query' && rcode === RCODE.NOERROR);
    const additionals = edns ? [...sections.additionals, edns.opt] : sections.additionals;
    try {
      return this.#pack(req, rcode, parsed.name.replace(/\.$/, ''), { answers: sections.answers, authorities, additionals }, transport, edns?.size ?? null);
    } catch {
      return headerReply(msg, RCODE.SERVFAIL);
    }
  }

  /** Fits the sections to the transport (truncate.ts) and writes them, compressed unless disable_compression. */
  #pack(req: DecodedPacket, rcode: number, qname: string, s: Sections, transport: 'udp' | 'tcp', ednsSize: number | null): Buffer {
    const { cfg } = this.#d;
    const q = req.questions![0];
    const question = packQuestion(qname, q.type, q.class ?? 'IN');
    const answers = s.answers.map((a) => packRecord(a));
    const authorities = s.authorities.map((a) => packRecord(a));
    const extras = s.additionals.map((a) => packRecord(a));
    const compress = !cfg.disableCompression;
    const head = { id: req.id ?? 0, flags: 0 };
    const w = this.#writer;
    const measure = (kept: number, synced: boolean, authority: boolean, c: boolean): number => {
      const ar = synced ? syncExtra(answers, kept, extras) : extras;
      return w.write(head, question, answers, kept, authority ? authorities : [], ar, ar.length, c);
    };
    const fit = fitReply(answers.length, { transport, ednsSize, udpAnswerLimit: cfg.udpAnswerLimit, srv: q.type === 'SRV', compress }, measure);
    head.flags = QR | this.#flags(req, rcode, true) | (fit.truncated && cfg.enableTruncate ? dnsPacket.TRUNCATED_RESPONSE : 0);
    return w.take(measure(fit.kept, fit.synced, fit.authority, compress));
  }

  /** A reply skeleton: the request's id, opcode, RD and question; AA for our names; RA when recursors exist. */
  #reply(req: DecodedPacket, rcode: number, authoritative: boolean): Packet {
    return { type: 'response', id: req.id, flags: this.#flags(req, rcode, authoritative), questions: req.questions, answers: [], authorities: [], additionals: [] };
  }

  /** Reply flags without QR (dns-packet adds it for responses; set below for our writer); opcode, RD and CD echoed as miekg's SetReply does. */
  #flags(req: DecodedPacket, rcode: number, authoritative: boolean): number {
    let flags = echoed(req.flags ?? 0);
    if (authoritative) flags |= dnsPacket.AUTHORITATIVE_ANSWER;
    if (this.#d.cfg.recursors.length > 0) flags |= dnsPacket.RECURSION_AVAILABLE;
    return flags | rcode;
  }

  /** Forwards a question over the transport it came by (Consul's handleRecurse), SERVFAIL when no recursor answers. */
  async #recurse(msg: Buffer, req: DecodedPacket, transport: 'udp' | 'tcp'): Promise<Buffer> {
    const got = await this.#upstream(msg, transport);
    if (got) return got;
    // Consul's SERVFAIL echoes the request's EDNS0 (its REFUSED does not).
    const failed = this.#reply(req, RCODE.SERVFAIL, false);
    const edns = ednsOf(req);
    if (edns) failed.additionals = [edns.opt];
    return encodeSafe(failed, msg);
  }

  /** The recursors' raw reply to `msg` (or the recursion override's); null when none answers or maxRecursions are waiting already. */
  async #upstream(msg: Buffer, transport: 'udp' | 'tcp', accept: Acceptance = 'usable'): Promise<Buffer | null> {
    if (this.#recursing >= this.#d.maxRecursions) return null;
    this.#recursing++;
    try {
      const { recursion } = this.#d;
      const exchange = this.#d.exchange ?? (transport === 'tcp' ? tcpExchange : udpExchange);
      return await (recursion ? recursion(msg) : recurse(msg, this.#d.cfg, this.#d.random, exchange, accept));
    } finally {
      this.#recursing--;
    }
  }
}

/**
 * The request decoded, or null (FORMERR) when dns-packet cannot decode it or could not re-encode
 * its name faithfully: dots inside labels, labels over 63 bytes, long names.
 */
function decodeRequest(msg: Buffer): DecodedPacket | null {
  try {
    const req = dnsPacket.decode(msg);
    const name = req.questions![0].name;
    if (name === '' || name === '.') return req;
    const labels = name.replace(/\.$/, '').split('.');
    return Buffer.byteLength(name) > 253 || labels.some((l) => l === '' || Buffer.byteLength(l) > 63) ? null : req;
  } catch {
    return null;
  }
}

/** The request's header bits a reply echoes as miekg's SetReply does: the opcode, and RD and CD for a QUERY only. */
function echoed(flags: number): number {
  return flags & (flags & OPCODE_MASK ? OPCODE_MASK : ECHOED);
}

/** A header-only reply (a message that could not be answered: SERVFAIL). */
function headerReply(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(msg.readUInt16BE(0), 0);
  out.writeUInt16BE(QR | echoed(msg.readUInt16BE(2)) | rcode, 2);
  return out;
}

/**
 * miekg's rejection of a message it will not answer (FORMERR, or NOTIMP for an opcode): the request's
 * header sent back with QR, without a question, AA and Z cleared, the other bits kept; a FORMERR's
 * opcode is QUERY, a NOTIMP's the request's.
 */
function rejectReply(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  const flags = msg.readUInt16BE(2);
  out.writeUInt16BE(msg.readUInt16BE(0), 0);
  out.writeUInt16BE(QR | (flags & KEPT_ON_REJECT) | (rcode === RCODE.NOTIMP ? flags & OPCODE_MASK : 0) | rcode, 2);
  return out;
}

/** Encodes a reply; an encoding failure becomes a header-only SERVFAIL rather than an exception. */
function encodeSafe(pkt: Packet, raw: Buffer): Buffer {
  try {
    return dnsPacket.encode(pkt);
  } catch {
    return headerReply(raw, RCODE.SERVFAIL);
  }
}
