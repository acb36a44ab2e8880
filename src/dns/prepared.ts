// Prepared service answers, the hot path for `<service>.service` A/AAAA/SRV questions: every
// instance's records are encoded once and kept until the service's index moves; each query
// shuffles the instances, picks records as answers.ts does (de-duplication, a_record_limit),
// trims as truncate.ts does and copies bytes into the reply, byte for byte what the general
// path would have sent (dns-packet never compresses names, so each record's size is fixed).
import dnsPacket, { type Answer } from 'dns-packet';
import type { DnsView } from '../endpoint/dns-view.ts';
import type { DnsConfig } from './config.ts';
import { serviceTtl } from './config.ts';
import { checkLocal, instanceRecords, type Question } from './answers.ts';
import { parseName } from './name.ts';
import { recordKey, shuffle } from './records.ts';
import { referencedNames, bareName } from './truncate.ts';
import { keyName, type WireQuery } from './wire.ts';

/** One encoded record: its bytes, identity (for de-duplication), owner name and the names it refers to. */
interface Rec {
  buf: Buffer;
  id: number;
  name: number;
  refs: number[];
}

/** A service question's records, valid while the service key keeps its index. */
interface Prepared {
  service: string;
  connect: boolean;
  skey: string;
  index: number;
  srv: boolean;
  /** Per instance, in the view's order: its answer records and its additional records. */
  answers: Rec[][];
  extras: Rec[][];
  question: Buffer;
  /** False when the general path must answer (no records of this type, or unencodable). */
  usable: boolean;
  /** How many distinct records and owner names the entry numbers. */
  ids: number;
  names: number;
}

const QTYPES = new Map<number, string>([[1, 'A'], [28, 'AAAA'], [33, 'SRV']]);
const MAX_ENTRIES = 20_000;
const codec = dnsPacket as unknown as {
  answer: { encode(a: Answer): Buffer };
  question: { encode(q: Question & { class: string }, buf: Buffer): unknown; encodingLength(q: Question): number };
};

/** Dependencies of the prepared answers. */
export interface PreparedDeps {
  cfg: DnsConfig;
  view: DnsView;
  random: () => number;
}

/** The cache of prepared answers and the per-query assembly over it. */
export class PreparedAnswers {
  readonly #d: PreparedDeps;
  readonly #cache = new Map<string, Prepared | null>();
  readonly #enabled: boolean;
  #order: number[] = [];
  #ans: Rec[] = [];
  #ext: Rec[] = [];
  #mark = new Uint32Array(64);
  #nameMark = new Uint32Array(64);
  #nameSize = new Uint32Array(64);
  #gen = 0;

  constructor(deps: PreparedDeps) {
    this.#d = deps;
    // Odd udp_answer_limit values (negative, fractional) follow Array.slice quirks: leave them to the general path.
    this.#enabled = Number.isInteger(deps.cfg.udpAnswerLimit) && deps.cfg.udpAnswerLimit >= 0;
  }

  /** The reply to a plain query, or undefined when the general path must answer it. */
  reply(msg: Buffer, wq: WireQuery, transport: 'udp' | 'tcp'): Buffer | undefined {
    const type = QTYPES.get(wq.qtype);
    if (!this.#enabled || type === undefined) return undefined;
    let p = this.#cache.get(wq.key);
    if (p === null) return undefined;
    if (p === undefined || this.#d.view.serviceKey(p.service, p.connect) !== p.skey || this.#d.view.version(p.skey) !== p.index) {
      p = this.#prepare(wq.key, type);
    }
    if (p === undefined || !p.usable) return undefined;
    this.#pick(p);
    return this.#write(msg, p, wq, transport);
  }

  #remember(key: string, p: Prepared | null): void {
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear();
    this.#cache.set(key, p);
  }

  /** Builds (and caches) the entry of a question; undefined when this question cannot be prepared now. */
  #prepare(key: string, type: string): Prepared | undefined {
    const { cfg, view } = this.#d;
    const name = keyName(key);
    const parsed = parseName(name, type, cfg.domain, cfg.altDomain);
    const query = parsed?.query;
    if (!parsed || !query || (query.kind !== 'service' && query.kind !== 'connect') || !isLocal(query.locality, cfg)) {
      this.#remember(key, null);
      return undefined;
    }
    const connect = query.kind === 'connect';
    const skey = view.serviceKey(query.service, connect);
    const index = skey === undefined ? 0 : view.version(skey);
    if (skey === undefined || index === 0) return undefined;
    const instances = view.instances(query.service, { connect, tag: query.kind === 'service' ? query.tag : '', onlyPassing: cfg.onlyPassing });
    if (instances.length === 0) return undefined;
    const q: Question = { name, type, domain: parsed.domain };
    const p: Prepared = { service: query.service, connect, skey, index, srv: type === 'SRV', answers: [], extras: [], question: Buffer.alloc(0), usable: false, ids: 0, names: 0 };
    try {
      encodeAll(p, q, instances.map((i) => instanceRecords(q, i, serviceTtl(cfg, query.service), cfg)));
    } catch {
      p.usable = false;
    }
    this.#remember(key, p);
    return p;
  }

  /** Shuffles the instances and picks answers and additionals as answers.ts does, into #ans/#ext. */
  #pick(p: Prepared): void {
    const order = this.#order;
    order.length = p.answers.length;
    for (let i = 0; i < order.length; i++) order[i] = i;
    shuffle(order, this.#d.random);
    this.#ans.length = 0;
    this.#ext.length = 0;
    if (this.#mark.length < p.ids) this.#mark = new Uint32Array(p.ids * 2);
    if (this.#nameMark.length < p.names) this.#nameMark = new Uint32Array(p.names * 2), this.#nameSize = new Uint32Array(p.names * 2);
    const gen = this.#next();
    const mark = this.#mark;
    let count = 0;
    for (const i of order) {
      const answers = p.answers[i];
      if (p.srv) {
        for (const r of answers) this.#ans.push(r);
        for (const r of p.extras[i]) if (mark[r.id] !== gen) mark[r.id] = gen, this.#ext.push(r);
        continue;
      }
      const start = this.#ans.length;
      for (const r of answers) if (mark[r.id] !== gen) this.#ans.push(r);
      if (this.#ans.length === start) continue;
      for (let j = start; j < this.#ans.length; j++) mark[this.#ans[j].id] = gen;
      if (++count === this.#d.cfg.aRecordLimit) break;
    }
  }

  #next(): number {
    if (++this.#gen === 0xffffffff) {
      this.#mark.fill(0);
      this.#nameMark.fill(0);
      this.#gen = 1;
    }
    return this.#gen;
  }

  /** Trims #ans/#ext to the transport (truncate.ts's rules) and writes the reply. */
  #write(msg: Buffer, p: Prepared, wq: WireQuery, transport: 'udp' | 'tcp'): Buffer {
    const { cfg } = this.#d;
    const edns = wq.ednsPayload >= 0;
    const base = 12 + p.question.length + (edns ? 11 : 0);
    const max = transport === 'tcp' ? 65535 : Math.min(Math.max(512, edns ? wq.ednsPayload : 0), 65535 - 68);
    const original = this.#ans.length;
    let kept = original;
    let synced = false;
    const maxAnswers = Math.min(8, cfg.udpAnswerLimit);
    if (transport === 'udp' && max === 512 && kept > maxAnswers) kept = maxAnswers, synced = true;
    const full = this.#size(base, kept, synced);
    if (kept > 1 && full > max) kept = this.#largestFit(base, kept, max), synced = true;
    const extras = synced ? this.#referenced(kept) : this.#ext;
    const size = synced ? this.#size(base, kept, true) : full;
    const out = Buffer.allocUnsafe(size);
    let flags = 0x8000 | dnsPacket.AUTHORITATIVE_ANSWER | (wq.rd ? dnsPacket.RECURSION_DESIRED : 0);
    if (cfg.recursors.length > 0) flags |= dnsPacket.RECURSION_AVAILABLE;
    if (kept < original && cfg.enableTruncate) flags |= dnsPacket.TRUNCATED_RESPONSE;
    out[0] = msg[0];
    out[1] = msg[1];
    out.writeUInt16BE(flags, 2);
    out.writeUInt16BE(1, 4);
    out.writeUInt16BE(kept, 6);
    out.writeUInt16BE(0, 8);
    out.writeUInt16BE(extras.length + (edns ? 1 : 0), 10);
    // TypedArray.set: Buffer.copy's argument handling costs more than these small copies.
    out.set(p.question, 12);
    let at = 12 + p.question.length;
    for (let i = 0; i < kept; i++) out.set(this.#ans[i].buf, at), at += this.#ans[i].buf.length;
    for (const e of extras) out.set(e.buf, at), at += e.buf.length;
    if (edns) writeOpt(out, at, wq.ednsPayload);
    return out;
  }

  /** Encoded size with the first `kept` answers (and only their additionals when `synced`). */
  #size(base: number, kept: number, synced: boolean): number {
    let size = base;
    for (let i = 0; i < kept; i++) size += this.#ans[i].buf.length;
    for (const e of synced ? this.#referenced(kept) : this.#ext) size += e.buf.length;
    return size;
  }

  /** The largest answer count (at least 1) whose message, with its additionals, fits in `max`. */
  #largestFit(base: number, upTo: number, max: number): number {
    const gen = this.#sizeNames();
    let size = base;
    let best = 1;
    for (let i = 0; i < upTo; i++) {
      const a = this.#ans[i];
      size += a.buf.length;
      for (const n of a.refs) {
        if (this.#nameMark[n] === gen) size += this.#nameSize[n], this.#nameSize[n] = 0;
      }
      if (size > max) break;
      best = i + 1;
    }
    return best;
  }

  /** Sums the additionals' sizes per owner name (marked with the returned generation). */
  #sizeNames(): number {
    const gen = this.#next();
    for (const e of this.#ext) {
      if (this.#nameMark[e.name] !== gen) this.#nameMark[e.name] = gen, this.#nameSize[e.name] = 0;
      this.#nameSize[e.name] += e.buf.length;
    }
    return gen;
  }

  /** The additionals whose owner the first `kept` answers refer to (truncate.ts's syncExtra). */
  #referenced(kept: number): Rec[] {
    if (this.#ext.length === 0) return this.#ext;
    const names = new Set<number>();
    for (let i = 0; i < kept; i++) for (const n of this.#ans[i].refs) names.add(n);
    return this.#ext.filter((e) => names.has(e.name));
  }
}

function isLocal(locality: Parameters<typeof checkLocal>[0], cfg: DnsConfig): boolean {
  try {
    checkLocal(locality, cfg, false);
    return true;
  } catch {
    return false;
  }
}

/** Encodes every instance's records into `p`, numbering distinct records and owner names. */
function encodeAll(p: Prepared, q: Question, perInstance: { answers: Answer[]; extras: Answer[] }[]): void {
  const ids = new Map<string, number>();
  const names = new Map<string, number>();
  const number = (m: Map<string, number>, k: string): number => m.get(k) ?? (m.set(k, m.size), m.size - 1);
  const rec = (r: Answer, answer: boolean): Rec => ({
    buf: codec.answer.encode(r), id: number(ids, recordKey(r)), name: number(names, bareName(r.name)),
    refs: answer ? referencedNames(r).map((n) => number(names, n)) : [],
  });
  for (const { answers, extras } of perInstance) {
    p.answers.push(answers.map((r) => rec(r, true)));
    p.extras.push(extras.map((r) => rec(r, false)));
  }
  // question.encode returns the question, not the buffer: hand it one.
  p.question = Buffer.alloc(codec.question.encodingLength(q));
  codec.question.encode({ ...q, class: 'IN' }, p.question);
  p.ids = ids.size;
  p.names = names.size;
  p.usable = p.answers.some((a) => a.length > 0);
}

/** An option-less OPT echoing the client's payload size (dns-packet writes 4096 for 0). */
function writeOpt(out: Buffer, at: number, payload: number): void {
  out[at] = 0;
  out.writeUInt16BE(41, at + 1);
  out.writeUInt16BE(payload || 4096, at + 3);
  out.writeUInt32BE(0, at + 5);
  out.writeUInt16BE(0, at + 9);
}
