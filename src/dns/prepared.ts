// Prepared service answers, the hot path for `<service>.service` A/AAAA/SRV questions: every
// instance's records are encoded once and kept until the service's index moves; each query
// shuffles the instances, picks records as answers.ts does (de-duplication, a_record_limit),
// fits and writes them with the general path's truncate.ts and pack.ts, so the reply is byte for
// byte what the general path would have sent.
import dnsPacket, { type Answer } from 'dns-packet';
import type { DnsView } from '../endpoint/dns-view.ts';
import type { DnsConfig } from './config.ts';
import { serviceTtl } from './config.ts';
import { checkLocal, instanceRecords, type Question } from './answers.ts';
import { parseName } from './name.ts';
import { recordKey, shuffle } from './records.ts';
import { fitReply, referencedNames, bareName, type Fit } from './truncate.ts';
import { keyName, type WireQuery } from './wire.ts';
import { MessageWriter, packQuestion, packRecord, type PackedQuestion, type PackedRecord } from './pack.ts';
import type { WireName } from './compress.ts';
import { markSimple, SimpleLayout } from './layout.ts';

/** A packed record with its identity (for de-duplication), owner name and the names it refers to numbered. */
type Rec = PackedRecord;

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
  question: PackedQuestion;
  /** False when the general path must answer (no records of this type, or unencodable). */
  usable: boolean;
  /** How many distinct records the entry numbers. */
  ids: number;
  /** Distinct SRV targets when the records have layout.ts's simple layout, else -1. */
  targets: number;
  /** Per instance, the size of its answers as written in full, and with owners as pointers (simple layout). */
  ansSize: Float64Array;
  ansPointed: Float64Array;
}

const QTYPES = new Map<number, string>([[1, 'A'], [28, 'AAAA'], [33, 'SRV']]);
const MAX_ENTRIES = 20_000;
const NONE: PackedRecord[] = [];
const NO_NAMES: string[] = [];
const NO_SIZES = new Float64Array(0);

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
  #order: number[] = [];
  #ans: Rec[] = [];
  #ext: Rec[] = [];
  /** How many of #ans and #ext the current query uses. */
  #na = 0;
  #ne = 0;
  /** The picked records' sizes in full and with pointer owners. */
  #full = 0;
  #pointed = 0;
  readonly #fit: Fit = { kept: 0, synced: false, authority: true, truncated: false };
  #mark = new Uint32Array(64);
  #gen = 0;
  readonly #w = new MessageWriter();
  readonly #head = { id: 0, flags: 0 };
  #p: Prepared | null = null;
  readonly #layout = new SimpleLayout();
  #opt = -1;
  #last = -1;
  #lastLen = 0;
  /** The last size summed by layout.ts (same numbering as #last). */
  #summed = -1;
  #summedLen = 0;
  readonly #measure = (kept: number, synced: boolean, authority: boolean, compress: boolean): number => this.#size(kept, synced, authority, compress);

  constructor(deps: PreparedDeps) {
    this.#d = deps;
  }

  /** The reply to a plain query, or undefined when the general path must answer it. */
  reply(msg: Buffer, wq: WireQuery, transport: 'udp' | 'tcp'): Buffer | undefined {
    const type = QTYPES.get(wq.qtype);
    if (type === undefined) return undefined;
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
    const p: Prepared = { service: query.service, connect, skey, index, srv: type === 'SRV', answers: [], extras: [], question: packQuestion(name, type, 'IN'), usable: false, ids: 0, targets: -1, ansSize: NO_SIZES, ansPointed: NO_SIZES };
    try {
      encodeAll(p, q, instances.map((i) => instanceRecords(q, i, serviceTtl(cfg, query.service), cfg)));
      p.targets = markSimple(p.question, p.answers, p.extras);
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
    // Counts, not length = 0: emptying an array frees its store, and every query would regrow it.
    const ans = this.#ans;
    const ext = this.#ext;
    let na = 0;
    let ne = 0;
    if (this.#mark.length < p.ids) this.#mark = new Uint32Array(p.ids * 2);
    const gen = this.#next();
    const mark = this.#mark;
    let count = 0;
    // Sizes of the whole pick (every answer, every additional) in full and with pointer owners,
    // summed while the records are at hand: most replies need no other measurement.
    let full = 0;
    let pointed = 0;
    for (const i of order) {
      const answers = p.answers[i];
      if (p.srv) {
        for (const r of answers) ans[na++] = r;
        full += p.ansSize[i];
        pointed += p.ansPointed[i];
        for (const r of p.extras[i]) if (mark[r.id] !== gen) mark[r.id] = gen, ext[ne++] = r, full += r.size, pointed += r.wire.length + 2;
        continue;
      }
      const start = na;
      for (const r of answers) if (mark[r.id] !== gen) ans[na++] = r, full += r.size, pointed += r.wire.length + 2;
      if (na === start) continue;
      for (let j = start; j < na; j++) mark[ans[j].id] = gen;
      if (++count === this.#d.cfg.aRecordLimit) break;
    }
    this.#na = na;
    this.#ne = ne;
    this.#full = full;
    this.#pointed = pointed;
  }

  #next(): number {
    if (++this.#gen === 0xffffffff) {
      this.#mark.fill(0);
      this.#gen = 1;
    }
    return this.#gen;
  }

  /** Fits #ans/#ext to the transport (truncate.ts) and writes the reply, compressed unless disable_compression. */
  #write(msg: Buffer, p: Prepared, wq: WireQuery, transport: 'udp' | 'tcp'): Buffer {
    const { cfg } = this.#d;
    const compress = !cfg.disableCompression;
    this.#p = p;
    this.#opt = wq.ednsPayload;
    this.#head.id = (msg[0] << 8) | msg[1];
    this.#last = -1;
    this.#summed = -1;
    const fit = fitReply(this.#na, { transport, ednsSize: wq.ednsPayload >= 0 ? wq.ednsPayload : null, udpAnswerLimit: cfg.udpAnswerLimit, srv: p.srv, compress }, this.#measure, this.#fit);
    let flags = 0x8000 | dnsPacket.AUTHORITATIVE_ANSWER | (wq.rd ? dnsPacket.RECURSION_DESIRED : 0);
    if (cfg.recursors.length > 0) flags |= dnsPacket.RECURSION_AVAILABLE;
    if (fit.truncated && cfg.enableTruncate) flags |= dnsPacket.TRUNCATED_RESPONSE;
    const extras = fit.synced ? this.#referenced(fit.kept) : this.#ext;
    const ne = fit.synced ? extras.length : this.#ne;
    if (p.targets >= 0 && compress) {
      const key = lastKey(fit.kept, fit.synced, true);
      const size = this.#summed === key ? this.#summedLen : this.#layout.size(p.question, this.#ans, fit.kept, extras, ne, true, wq.ednsPayload >= 0);
      const out = size < 0 ? null : Buffer.allocUnsafe(size);
      if (out && this.#layout.write(out, p.question, this.#ans, fit.kept, extras, ne, p.targets, wq.ednsPayload)) {
        out[0] = msg[0];
        out[1] = msg[1];
        out.writeUInt16BE(flags, 2);
        return out;
      }
    }
    // The last measurement is often the reply itself: patch the flags instead of writing it again.
    const same = this.#last === lastKey(fit.kept, fit.synced, compress);
    const len = same ? this.#lastLen : this.#writeAll(fit.kept, fit.synced, compress);
    this.#w.buf.writeUInt16BE(flags, 2);
    return this.#w.take(len);
  }

  /** The size of the reply with the first `kept` answers: summed for simple layouts, else written into the writer's buffer. */
  #size(kept: number, synced: boolean, _authority: boolean, compress: boolean): number {
    const p = this.#p!;
    if (kept === this.#na && !synced && (p.targets >= 0 || !compress)) {
      const size = 12 + p.question.name.bytes.length + 4 + (this.#opt >= 0 ? 11 : 0) + (compress ? this.#pointed : this.#full);
      if (!compress || size < 0x4000) {
        this.#summed = lastKey(kept, synced, compress);
        this.#summedLen = size;
        return size;
      }
    }
    const extras = synced ? this.#referenced(kept) : this.#ext;
    const ne = synced ? extras.length : this.#ne;
    if (p.targets >= 0 || !compress) {
      const size = this.#layout.size(p.question, this.#ans, kept, extras, ne, compress, this.#opt >= 0);
      this.#summed = lastKey(kept, synced, compress);
      this.#summedLen = size;
      if (size >= 0) return size;
    }
    return this.#writeAll(kept, synced, compress);
  }

  /** Writes the reply with the first `kept` answers into the writer's buffer; returns its length. */
  #writeAll(kept: number, synced: boolean, compress: boolean): number {
    const extras = synced ? this.#referenced(kept) : this.#ext;
    this.#last = lastKey(kept, synced, compress);
    this.#lastLen = this.#w.write(this.#head, this.#p!.question, this.#ans, kept, NONE, extras, synced ? extras.length : this.#ne, compress, this.#opt);
    return this.#lastLen;
  }

  /** The additionals whose owner the first `kept` answers refer to (truncate.ts's syncExtra). */
  #referenced(kept: number): Rec[] {
    const names = new Set<number>();
    for (let i = 0; i < kept; i++) for (const n of this.#ans[i].refIds) names.add(n);
    const out: Rec[] = [];
    for (let i = 0; i < this.#ne; i++) if (names.has(this.#ext[i].nameId)) out.push(this.#ext[i]);
    return out;
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
  const spelled = new Map<string, WireName>();
  const rec = (r: Answer, answer: boolean): Rec => {
    const p = packRecord(r, spelled);
    p.id = number(ids, recordKey(r));
    p.nameId = number(names, bareName(r.name));
    if (answer) p.refIds = referencedNames(r).map((n) => number(names, n));
    // The prepared path matches names by number; the strings would only take room.
    p.refs = NO_NAMES;
    return p;
  };
  p.ansSize = new Float64Array(perInstance.length);
  p.ansPointed = new Float64Array(perInstance.length);
  for (const { answers, extras } of perInstance) {
    const recs = answers.map((r) => rec(r, true));
    for (const r of recs) p.ansSize[p.answers.length] += r.size, p.ansPointed[p.answers.length] += r.wire.length + 2;
    p.answers.push(recs);
    p.extras.push(extras.map((r) => rec(r, false)));
  }
  p.ids = ids.size;
  p.usable = p.answers.some((a) => a.length > 0);
}

/** A number naming one measurement (answer count, synced, compressed). */
function lastKey(kept: number, synced: boolean, compress: boolean): number {
  return kept * 4 + (synced ? 2 : 0) + (compress ? 1 : 0);
}
