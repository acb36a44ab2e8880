// Prepared service answers, the hot path for `<service>.service` A/AAAA/SRV questions: every
// instance's records are encoded once and kept until the service's index moves; each query
// shuffles the instances, picks records as answers.ts does (de-duplication, a_record_limit),
// fits and writes them with the general path's truncate.ts and pack.ts, so the reply is byte for
// byte what the general path would have sent.
import type { Answer } from 'dns-packet';
import type { DnsInstance, DnsReader } from '../endpoint/dns-view.ts';
import type { DnsConfig } from './config.ts';
import { serviceTtl } from './config.ts';
import { localTenancy, instanceRecords, srvTuple, type Question } from './answers.ts';
import { parseName } from './name.ts';
import { shuffleIndexes, shuffleIndexesFrom, shuffleState } from '../shuffle.ts';
import { recordKey } from './records.ts';
import { fitReply, referencedNames, bareName, sliceLength, type Fit } from './truncate.ts';
import { keyBytes, keyName, sameKey, type WireQuery } from './wire.ts';
import { MessageWriter, packQuestion, packRecord, type PackedQuestion, type PackedRecord } from './pack.ts';
import { laneOf, writeLane, type Lane } from './lane.ts';
import { ID, LEN, NAME, packEntry, REF, SIZE, STRIDE, unpackEntry, type PackedEntry } from './entry.ts';
import type { WireName } from './compress.ts';
import { markSimple, SimpleLayout } from './layout.ts';

/** A service question's records, valid while the service key keeps its index. */
interface Prepared {
  service: string;
  connect: boolean;
  skey: string;
  index: number;
  srv: boolean;
  /** Every instance's answers and additionals, in the view's order (entry.ts). */
  entry: PackedEntry;
  /** The same as pack.ts records by record number, for the general writer: kept when the layout is not simple, else built on first need. */
  recs: PackedRecord[] | null;
  question: PackedQuestion;
  /** False when the general path must answer (no records of this type, or unencodable). */
  usable: boolean;
  /** How many distinct records and owner or referenced names the entry numbers. */
  ids: number;
  names: number;
  /** Distinct SRV targets when the records have layout.ts's simple layout, else -1. */
  targets: number;
  /** The view's stamp when the entry was last found current (-1: re-check on every query). */
  stamp: number;
  /** Whole replies laid out by instance (lane.ts), or null when some reply needs the general assembly. */
  lane: Lane | null;
  /** The wire key (wire.ts) the entry is found by without making the key string, once it has answered one. */
  wireKey: Uint8Array | null;
}

/** What build() makes of an entry's records. */
type Records = Pick<Prepared, 'entry' | 'recs' | 'usable' | 'ids' | 'names' | 'targets' | 'lane'>;

const MAX_ENTRIES = 20_000;
const NONE: PackedRecord[] = [];
const NO_NAMES: string[] = [];
const NO_IDS: number[] = [];
const UNUSABLE: Records = { entry: packEntry([], []), recs: null, usable: false, ids: 0, names: 0, targets: -1, lane: null };
const MAX_UDP_SIZE = 65535 - 68;
const UDP_HEADER = 8;
const MAX_UDP_ANSWERS = 8;
const MAX_TCP_SIZE = 65523;
const OPT_SIZE = 11;
/** Slots of the table usable entries are found in by wire.ts's key hash (a power of two). */
const SLOTS = 1 << 15;
/** dns-packet's header flags, as numbers the compiler sees. */
const QR = 0x8000;
const AA = 1 << 10;
const TC = 1 << 9;
const RD = 1 << 8;
const RA = 1 << 7;
/** CD, echoed as miekg's SetReply copies it. */
const CD = 1 << 4;

/** Dependencies of the prepared answers. */
export interface PreparedDeps {
  cfg: DnsConfig;
  view: DnsReader;
  random: () => number;
}

/** The cache of prepared answers and the per-query assembly over it. */
export class PreparedAnswers {
  readonly #d: PreparedDeps;
  readonly #cache = new Map<string, Prepared | null>();
  /**
   * Usable entries by wire.ts's key hash, one per slot (the key string is not made for these): a
   * hit reads one array element, the entry and its key bytes. Two keys sharing a slot take turns
   * in it; the other one is found by its key string meanwhile.
   */
  readonly #slots: (Prepared | undefined)[] = new Array<Prepared | undefined>(SLOTS).fill(undefined);
  /** The shuffled instance order of the current query (its first `instances`). */
  #order = new Int32Array(64);
  /** With Math.random as the random source, the shuffles' own generator (no boxed draw per query); null: draw from deps.random. */
  readonly #state: Int32Array | null;
  /** The picked answers and additionals as record numbers of the entry, and the synced additionals. */
  #ans = new Int32Array(64);
  #ext = new Int32Array(64);
  #synced = new Int32Array(64);
  /** The same as pack.ts records for the general writer. */
  readonly #ansRecs: PackedRecord[] = [];
  readonly #extRecs: PackedRecord[] = [];
  /** How many of #ans and #ext the current query uses. */
  #na = 0;
  #ne = 0;
  /** The picked records' sizes in full and with pointer owners. */
  #full = 0;
  #pointed = 0;
  readonly #fit: Fit = { kept: 0, synced: false, authority: true, truncated: false };
  #mark = new Uint32Array(64);
  #gen = 0;
  /** By name number: #wantGen while a kept SRV answer's target still wants its additional (#referenced). */
  #wanted = new Uint32Array(64);
  #wantGen = 0;
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
    this.#state = deps.random === Math.random ? shuffleState() : null;
  }

  /** The reply to a plain query, or undefined when the general path must answer it. */
  reply(msg: Buffer, wq: WireQuery, transport: 'udp' | 'tcp'): Buffer | undefined {
    const qtype = wq.qtype;
    if (qtype !== 1 && qtype !== 28 && qtype !== 33) return undefined;
    const slot = wq.hash & (SLOTS - 1);
    let p: Prepared | null | undefined = this.#slots[slot];
    if (p === undefined || !sameKey(p.wireKey!)) {
      p = this.#cache.get(wq.key);
      if (p === null) return undefined;
    }
    // While the view's stamp stays, nothing the entry was built from can have changed: two map
    // lookups (service key, its index) saved on almost every query.
    const view = this.#d.view;
    const stamp = view.stamp ? view.stamp() : -1;
    if (p === undefined || ((p.stamp !== stamp || stamp < 0) && !this.#current(p, stamp))) {
      p = this.#prepare(wq.key, qtypeName(qtype)!, stamp);
      if (p === undefined || !p.usable) {
        // A hash-found entry for this key is out of date: drop it, or every query would rebuild.
        const found = this.#slots[slot];
        if (found !== undefined && sameKey(found.wireKey!)) this.#slots[slot] = undefined;
        return undefined;
      }
    }
    if (!p.usable) return undefined;
    if (this.#slots[slot] !== p) {
      p.wireKey ??= keyBytes();
      this.#slots[slot] = p;
    }
    if (p.lane !== null && !this.#d.cfg.disableCompression) {
      const out = this.#laneReply(msg, p.lane, wq, transport);
      if (out !== undefined) return out;
    }
    this.#pick(p);
    return this.#write(msg, p, wq, transport);
  }

  /**
   * The reply from the entry's lane when fitting it to the transport would keep every record
   * (what fitReply() decides for this size and count), else undefined; the same shuffle as #pick.
   */
  #laneReply(msg: Buffer, lane: Lane, wq: WireQuery, transport: 'udp' | 'tcp'): Buffer | undefined {
    const { cfg } = this.#d;
    const opt = wq.ednsPayload >= 0;
    const size = lane.size + (opt ? OPT_SIZE : 0);
    if (!lane.srv && cfg.aRecordLimit >= 1 && cfg.aRecordLimit < lane.contributing) return undefined;
    let kept = lane.instances;
    if (transport === 'udp') {
      const maxSize = Math.min(Math.max(512, opt ? wq.ednsPayload : 0), MAX_UDP_SIZE);
      const maxAnswers = Math.min(MAX_UDP_ANSWERS, cfg.udpAnswerLimit);
      if (maxSize === 512 && lane.answers > maxAnswers) {
        // The first udp_answer_limit answers (at most 8), measured uncompressed, then TC (truncate.ts).
        if (lane.full < 0) return undefined;
        kept = sliceLength(lane.answers, maxAnswers);
        if (kept < 1 || (kept > 1 && lane.head + (opt ? OPT_SIZE : 0) + kept * lane.full > maxSize - UDP_HEADER)) return undefined;
      } else if (lane.answers > 1 && size > maxSize - UDP_HEADER) return undefined;
    } else if (lane.answers > (lane.srv ? 1024 : 4096) || (lane.answers > 1 && size > MAX_TCP_SIZE)) return undefined;
    const n = lane.instances;
    if (this.#order.length < n) this.#order = new Int32Array(n * 2);
    const order = this.#order;
    if (this.#state !== null) shuffleIndexesFrom(order, n, this.#state);
    else shuffleIndexes(order, n, this.#d.random);
    let flags = QR | AA | (wq.rd ? RD : 0) | (msg[3] & CD);
    if (cfg.recursors.length > 0) flags |= RA;
    if (kept < n && cfg.enableTruncate) flags |= TC;
    return writeLane(lane, order, msg, flags, wq.ednsPayload, kept);
  }

  /** Whether the entry's service key and index are still the view's (then it is stamped current). */
  #current(p: Prepared, stamp: number): boolean {
    const { view } = this.#d;
    if (view.serviceKey(p.service, p.connect) !== p.skey || view.version(p.skey) !== p.index) return false;
    p.stamp = stamp;
    return true;
  }

  #remember(key: string, p: Prepared | null): void {
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear(), this.#slots.fill(undefined);
    this.#cache.set(key, p);
  }

  /** Builds (and caches) the entry of a question; undefined when this question cannot be prepared now. */
  #prepare(key: string, type: string, stamp: number): Prepared | undefined {
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
    const question = packQuestion(name, type, 'IN');
    let records: Records;
    try {
      const per = answerable(instances, instances.map((i) => instanceRecords(q, i, serviceTtl(cfg, query.service), cfg)), type, cfg);
      records = per ? build(question, per, type === 'SRV') : UNUSABLE;
    } catch {
      records = UNUSABLE;
    }
    const p: Prepared = { service: query.service, connect, skey, index, srv: type === 'SRV', question, ...records, stamp, wireKey: null };
    this.#remember(key, p);
    return p;
  }

  /** Shuffles the instances and picks answers and additionals as answers.ts does, into #ans/#ext. */
  #pick(p: Prepared): void {
    const { meta, rec, instances: n, records } = p.entry;
    if (this.#order.length < n) this.#order = new Int32Array(n * 2);
    const order = this.#order;
    if (this.#state !== null) shuffleIndexesFrom(order, n, this.#state);
    else shuffleIndexes(order, n, this.#d.random);
    if (this.#ans.length < records) this.#ans = new Int32Array(records * 2), this.#ext = new Int32Array(records * 2), this.#synced = new Int32Array(records * 2);
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
    for (let o = 0; o < n; o++) {
      const i = order[o];
      const a0 = meta[2 * i];
      const e0 = meta[2 * i + 1];
      if (p.srv) {
        for (let k = a0; k < e0; k++) ans[na++] = k;
        full += meta[2 * n + 1 + i];
        pointed += meta[3 * n + 1 + i];
        for (let k = e0, e1 = meta[2 * i + 2]; k < e1; k++) {
          const m = rec + STRIDE * k;
          if (mark[meta[m + ID]] !== gen) mark[meta[m + ID]] = gen, ext[ne++] = k, full += meta[m + SIZE], pointed += meta[m + LEN] + 2;
        }
        continue;
      }
      const start = na;
      for (let k = a0; k < e0; k++) {
        const m = rec + STRIDE * k;
        if (mark[meta[m + ID]] !== gen) ans[na++] = k, full += meta[m + SIZE], pointed += meta[m + LEN] + 2;
      }
      if (na === start) continue;
      for (let j = start; j < na; j++) mark[meta[rec + STRIDE * ans[j] + ID]] = gen;
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
    let flags = QR | AA | (wq.rd ? RD : 0) | (msg[3] & CD);
    if (cfg.recursors.length > 0) flags |= RA;
    if (fit.truncated && cfg.enableTruncate) flags |= TC;
    const ne = fit.synced ? this.#referenced(fit.kept) : this.#ne;
    const extras = fit.synced ? this.#synced : this.#ext;
    if (p.targets >= 0 && compress) {
      const key = lastKey(fit.kept, fit.synced, true);
      const size = this.#summed === key ? this.#summedLen : this.#layout.size(p.question, p.entry, this.#ans, fit.kept, extras, ne, true, wq.ednsPayload >= 0);
      const out = size < 0 ? null : Buffer.allocUnsafe(size);
      if (out && this.#layout.write(out, p.question, p.entry, this.#ans, fit.kept, extras, ne, p.targets, wq.ednsPayload)) {
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
    const ne = synced ? this.#referenced(kept) : this.#ne;
    const extras = synced ? this.#synced : this.#ext;
    if (p.targets >= 0 || !compress) {
      const size = this.#layout.size(p.question, p.entry, this.#ans, kept, extras, ne, compress, this.#opt >= 0);
      this.#summed = lastKey(kept, synced, compress);
      this.#summedLen = size;
      if (size >= 0) return size;
    }
    return this.#writeAll(kept, synced, compress);
  }

  /** Writes the reply with the first `kept` answers into the writer's buffer; returns its length. */
  #writeAll(kept: number, synced: boolean, compress: boolean): number {
    const p = this.#p!;
    const ne = synced ? this.#referenced(kept) : this.#ne;
    const extras = synced ? this.#synced : this.#ext;
    const recs = (p.recs ??= unpackEntry(p.entry, p.question));
    const ansRecs = this.#ansRecs;
    const extRecs = this.#extRecs;
    for (let i = 0; i < kept; i++) ansRecs[i] = recs[this.#ans[i]];
    for (let i = 0; i < ne; i++) extRecs[i] = recs[extras[i]];
    this.#last = lastKey(kept, synced, compress);
    this.#lastLen = this.#w.write(this.#head, p.question, ansRecs, kept, NONE, extRecs, ne, compress, this.#opt);
    ansRecs.length = 0;
    extRecs.length = 0;
    return this.#lastLen;
  }

  /**
   * Puts into #synced the first additional owned by each SRV target of the first `kept` answers
   * (truncate.ts's syncExtra: prepared additionals have no CNAMEs); returns how many.
   */
  #referenced(kept: number): number {
    const p = this.#p!;
    const { meta, rec } = p.entry;
    if (this.#wanted.length < p.names) this.#wanted = new Uint32Array(p.names * 2);
    if (++this.#wantGen === 0xffffffff) this.#wanted.fill(0), this.#wantGen = 1;
    const wanted = this.#wanted;
    const gen = this.#wantGen;
    for (let i = 0; i < kept; i++) {
      const ref = meta[rec + STRIDE * this.#ans[i] + REF];
      if (ref >= 0) wanted[ref] = gen;
    }
    let n = 0;
    for (let i = 0; i < this.#ne; i++) {
      const name = meta[rec + STRIDE * this.#ext[i] + NAME];
      if (wanted[name] === gen) wanted[name] = 0, this.#synced[n++] = this.#ext[i];
    }
    return n;
  }
}

type InstanceRecords = ReturnType<typeof instanceRecords>;

/**
 * The instances' records as the fast path may answer them, or null when a hostname address makes
 * the general path answer (it resolves hostnames, hostnames.ts; it drops SRV duplicates): an address question is answered
 * by a CNAME only when no instance has an address, so CNAME instances are dropped beside others
 * (answers.ts); an SRV target without glue is left as it is when there is nothing to resolve it with.
 */
function answerable(instances: DnsInstance[], per: InstanceRecords[], type: string, cfg: DnsConfig): InstanceRecords[] | null {
  if (type === 'SRV') {
    // Instances sharing node, address and port are one SRV answer (answers.ts), whichever comes first.
    if (new Set(instances.map(srvTuple)).size !== instances.length) return null;
    const ours = (target: string): boolean => parseName(target, 'ANY', cfg.domain, cfg.altDomain) !== null;
    // A hostname target has no address records (at most the node meta TXT under the question's name).
    const hostname = (r: InstanceRecords): boolean => r.extras.every((e) => e.type === 'TXT');
    const resolvable = per.some((r) => hostname(r) && r.answers.some((a) => a.type === 'SRV' && (cfg.recursors.length > 0 || ours(a.data.target))));
    return resolvable ? null : per;
  }
  const cname = (r: InstanceRecords): boolean => r.answers.length > 0 && r.answers[0].type === 'CNAME';
  if (!per.some(cname)) return per;
  if (!per.some((r) => r.answers.length > 0 && !cname(r))) return null;
  return per.map((r) => (cname(r) ? { answers: [], extras: [] } : r));
}

/** The types the prepared path answers. */
function qtypeName(qtype: number): 'A' | 'AAAA' | 'SRV' | undefined {
  return qtype === 1 ? 'A' : qtype === 28 ? 'AAAA' : qtype === 33 ? 'SRV' : undefined;
}

// This datacenter's default namespace and partition: other tenants are answered by the general path.
function isLocal(locality: Parameters<typeof localTenancy>[0], cfg: DnsConfig): boolean {
  try {
    return localTenancy(locality, cfg, false) === undefined;
  } catch {
    return false;
  }
}

/** Encodes every instance's records, numbering distinct records and owner names, and packs them (entry.ts). */
function build(question: PackedQuestion, perInstance: { answers: Answer[]; extras: Answer[] }[], srv: boolean): Records {
  const ids = new Map<string, number>();
  const names = new Map<string, number>();
  const number = (m: Map<string, number>, k: string): number => m.get(k) ?? (m.set(k, m.size), m.size - 1);
  const spelled = new Map<string, WireName>();
  const rec = (r: Answer, answer: boolean): PackedRecord => {
    const p = packRecord(r, spelled);
    p.id = number(ids, recordKey(r));
    p.nameId = number(names, bareName(r.name));
    p.refIds = answer ? referencedNames(r).map((n) => number(names, n)) : NO_IDS;
    // The prepared path matches names by number; the strings would only take room.
    p.refs = NO_NAMES;
    return p;
  };
  const answers = perInstance.map((i) => i.answers.map((r) => rec(r, true)));
  const extras = perInstance.map((i) => i.extras.map((r) => rec(r, false)));
  const targets = markSimple(question, answers, extras);
  const entry = packEntry(answers, extras);
  // Entries without the simple layout keep their records for the general writer; simple ones rebuild them if ever needed.
  const recs = targets >= 0 ? null : answers.flatMap((list, i) => [...list, ...extras[i]]);
  return { entry, recs, usable: answers.some((a) => a.length > 0), ids: ids.size, names: names.size, targets, lane: laneOf(question, entry, srv, targets) };
}

/** A number naming one measurement (answer count, synced, compressed). */
function lastKey(kept: number, synced: boolean, compress: boolean): number {
  return kept * 4 + (synced ? 2 : 0) + (compress ? 1 : 0);
}
