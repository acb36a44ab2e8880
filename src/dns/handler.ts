// One DNS message in, one reply out, with no sockets: header checks as miekg/dns does them
// (FORMERR, NOTIMP), routing by domain (Consul, arpa, recursors, else REFUSED), the answer,
// EDNS0 echo, trimming to the transport, and encoding. Never throws on client input.
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import type { Logger } from '../log.ts';
import type { DnsView } from '../endpoint/dns-view.ts';
import type { DnsConfig } from './config.ts';
import { parseName, type ParsedName } from './name.ts';
import { answer, type Sections } from './answers.ts';
import { soaRecord } from './records.ts';
import { trimReply } from './truncate.ts';
import { recurse, type Exchange } from './recursor.ts';
import { RCODE, rcodeFor } from './errors.ts';
import { PreparedAnswers } from './prepared.ts';
import { readQuery } from './wire.ts';

/** Dependencies of the handler. */
export interface DnsHandlerDeps {
  cfg: DnsConfig;
  view: DnsView;
  logger: Logger;
  random?: () => number;
  now?: () => number;
  /** Upstream exchange for recursion (tests inject one). */
  exchange?: Exchange;
  /** Queries allowed to wait on recursors at once; more are answered SERVFAIL at once. */
  maxRecursions?: number;
  /** Prepared answers for plain service queries (default true; tests compare with the general path). */
  fastPath?: boolean;
}

const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const EDNS_MAX = 65535 - 68;

/** Answers raw DNS messages. */
export class DnsHandler {
  readonly #d: Required<DnsHandlerDeps>;
  readonly #prepared: PreparedAnswers | null;
  #recursing = 0;

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
    const early = this.#checkHeader(msg);
    if (early !== undefined || !this.#prepared) return early;
    const wq = readQuery(msg);
    return wq ? this.#prepared.reply(msg, wq, transport) : undefined;
  }

  /** Replies to one message; null means send nothing (too short, or not a query). */
  async handle(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | null> {
    const now = this.answerNow(msg, transport);
    // Past answerNow the header is known to be acceptable.
    if (now !== undefined) return now;
    let req: DecodedPacket;
    try {
      req = dnsPacket.decode(msg);
      validate(req);
    } catch {
      return headerReply(msg, RCODE.FORMERR);
    }
    const q = req.questions![0];
    const parsed = parseName(q.name, q.type, this.#d.cfg.domain, this.#d.cfg.altDomain);
    const canRecurse = this.#d.cfg.recursors.length > 0;
    if (!parsed) return canRecurse ? this.#recurse(msg, req) : encodeSafe(this.#reply(req, RCODE.REFUSED, false), msg);
    // Reverse names Consul does not know are passed on to the recursors.
    const arpa = parsed.name.endsWith('arpa.');
    if (arpa && canRecurse && !this.#hasPtr(parsed)) return this.#recurse(msg, req);
    return this.#answer(msg, req, parsed, transport);
  }

  /** miekg's accept rules: drop responses and runts; NOTIMP other opcodes; FORMERR odd counts. */
  #checkHeader(msg: Buffer): Buffer | null | undefined {
    if (msg.length < 12) return null;
    const flags = msg.readUInt16BE(2);
    if (flags & QR) return null;
    const opcode = (flags & OPCODE_MASK) >> 11;
    if (opcode !== 0) return headerReply(msg, RCODE.NOTIMP);
    const [qd, an, ns, ar] = [4, 6, 8, 10].map((o) => msg.readUInt16BE(o));
    if (qd !== 1 || an > 1 || ns > 1 || ar > 2) return headerReply(msg, RCODE.FORMERR);
    return undefined;
  }

  #hasPtr(parsed: ParsedName): boolean {
    if (parsed.query?.kind !== 'ptr') return false;
    const ip = parsed.query.ip;
    return !!(this.#d.view.nodeByAddress(ip) ?? this.#d.view.serviceByAddress(ip));
  }

  #answer(msg: Buffer, req: DecodedPacket, parsed: ParsedName, transport: 'udp' | 'tcp'): Buffer {
    const { cfg } = this.#d;
    const q = { name: parsed.name.replace(/\.$/, ''), type: req.questions![0].type, domain: parsed.domain };
    let rcode: number = RCODE.NOERROR;
    let sections: Sections = { answers: [], authorities: [], additionals: [] };
    try {
      sections = answer(q, parsed.query, { cfg, view: this.#d.view, random: this.#d.random, now: this.#d.now });
    } catch (err) {
      rcode = rcodeFor(err);
      if (rcode === RCODE.SERVFAIL) this.#d.logger.error({ err, name: q.name }, 'dns query failed');
    }
    const out = this.#reply(req, rcode, true, q.name);
    out.answers = sections.answers;
    out.authorities = sections.authorities;
    out.additionals = sections.additionals;
    if ((rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN) && out.answers.length === 0) {
      out.authorities = [soaRecord(parsed.domain, cfg, this.#d.now())];
    }
    const edns = ednsOf(req);
    if (edns) out.additionals.push(edns.opt);
    const trimmed = trimReply(out, transport, edns?.size ?? null, cfg.udpAnswerLimit);
    if (trimmed && cfg.enableTruncate) out.flags! |= dnsPacket.TRUNCATED_RESPONSE;
    return encodeSafe(out, msg);
  }

  /** A reply skeleton: the request's id, opcode, RD and question; AA for our names; RA when recursors exist. */
  #reply(req: DecodedPacket, rcode: number, authoritative: boolean, qname?: string): Packet {
    let flags = (req.flags ?? 0) & (OPCODE_MASK | dnsPacket.RECURSION_DESIRED);
    if (authoritative) flags |= dnsPacket.AUTHORITATIVE_ANSWER;
    if (this.#d.cfg.recursors.length > 0) flags |= dnsPacket.RECURSION_AVAILABLE;
    const q = req.questions![0];
    return {
      type: 'response', id: req.id, flags: flags | rcode,
      questions: [{ ...q, name: qname ?? q.name }], answers: [], authorities: [], additionals: [],
    };
  }

  async #recurse(msg: Buffer, req: DecodedPacket): Promise<Buffer> {
    if (this.#recursing >= this.#d.maxRecursions) return encodeSafe(this.#reply(req, RCODE.SERVFAIL, false), msg);
    this.#recursing++;
    try {
      const got = await recurse(msg, this.#d.cfg, this.#d.random, this.#d.exchange);
      if (got) return got;
    } finally {
      this.#recursing--;
    }
    return encodeSafe(this.#reply(req, RCODE.SERVFAIL, false), msg);
  }
}

/** Rejects what dns-packet decodes but cannot re-encode faithfully: dots inside labels, labels over 63 bytes, long names. */
function validate(req: DecodedPacket): void {
  const name = req.questions![0].name;
  if (name === '' || name === '.') return;
  const labels = name.replace(/\.$/, '').split('.');
  if (Buffer.byteLength(name) > 253 || labels.some((l) => l === '' || Buffer.byteLength(l) > 63)) throw new Error('bad name');
}

/** The EDNS0 OPT of the request and the OPT to echo (payload size and client subnet). */
function ednsOf(req: DecodedPacket): { size: number; opt: Answer } | null {
  const opt = (req.additionals ?? []).find((a) => a.type === 'OPT');
  if (!opt || opt.type !== 'OPT') return null;
  const size = Math.min(Math.max(opt.udpPayloadSize, 512), EDNS_MAX);
  const ecs = (opt.options ?? []).filter((o) => o.code === 8);
  return { size, opt: { type: 'OPT', name: '.', udpPayloadSize: opt.udpPayloadSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: ecs } as Answer };
}

/** A header-only reply to a message that could not be parsed. */
function headerReply(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(msg.readUInt16BE(0), 0);
  out.writeUInt16BE(QR | (msg.readUInt16BE(2) & (OPCODE_MASK | dnsPacket.RECURSION_DESIRED)) | rcode, 2);
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
