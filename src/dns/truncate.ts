// Fitting answers to the transport as Consul does (trimUDPResponse / trimTCPResponse): over UDP
// without EDNS0 at most min(8, udp_answer_limit) answers, measured uncompressed; then answers are
// cut until the message, as it will be sent (compressed unless disable_compression), fits: the
// advertised EDNS0 size (at least 512, at most 65467) less 8 over UDP, 65523 bytes over TCP (after
// a cap of 4096 answers, 1024 for SRV). Once answers are cut, the authority section goes and only
// the additional record of each remaining SRV answer's target stays (syncExtra).
import type { Answer } from 'dns-packet';
import type { PackedRecord } from './pack.ts';

/** Consul's cap on UDP answers regardless of udp_answer_limit. */
const MAX_UDP_ANSWERS = 8;
const DEFAULT_UDP_SIZE = 512;
const MAX_UDP_SIZE = 65535 - 68;
/** Consul's UDP budget leaves room for the UDP header. */
const UDP_HEADER = 8;
const MAX_TCP_SIZE = 65523;
const TCP_MAX_ANSWERS = 4096;
const TCP_MAX_SRV_ANSWERS = 1024;
const OPT = 41;
const CNAME = 5;
const SRV = 33;

/** The size of the message with the first `kept` answers, its additionals synced to them or all, with or without its authority section. */
export type Measure = (kept: number, synced: boolean, authority: boolean, compress: boolean) => number;

/** What to send: the first `kept` answers, whether additionals are synced to them, whether the authority section stays, and whether answers were cut. */
export interface Fit {
  kept: number;
  synced: boolean;
  authority: boolean;
  truncated: boolean;
}

/** The transport and limits a reply is fitted to. */
export interface FitLimits {
  transport: 'udp' | 'tcp';
  /** The client's EDNS0 payload size, or null without EDNS0. */
  ednsSize: number | null;
  udpAnswerLimit: number;
  /** The question is SRV (TCP caps SRV answers lower). */
  srv: boolean;
  /** Whether the reply will be sent compressed. */
  compress: boolean;
}

/** Decides how many of `count` answers to send (into `fit` when given, to spare an allocation). */
export function fitReply(count: number, l: FitLimits, measure: Measure, fit: Fit = { kept: 0, synced: false, authority: true, truncated: false }): Fit {
  fit.kept = count;
  fit.synced = false;
  fit.authority = true;
  fit.truncated = false;
  let compress = l.compress;
  let maxSize = MAX_TCP_SIZE;
  let budget = MAX_TCP_SIZE;
  if (l.transport === 'udp') {
    maxSize = Math.min(Math.max(DEFAULT_UDP_SIZE, l.ednsSize ?? 0), MAX_UDP_SIZE);
    budget = maxSize - UDP_HEADER;
    const maxAnswers = Math.min(MAX_UDP_ANSWERS, l.udpAnswerLimit);
    if (maxSize === DEFAULT_UDP_SIZE && count > maxAnswers) {
      // Consul measures these replies uncompressed (safe for resolvers that decompress) and sends them compressed.
      compress = false;
      fit.kept = sliceLength(count, maxAnswers);
      fit.synced = true;
    }
  } else {
    // Consul's cap on TCP answers does not count as truncation (nor sync the additionals).
    fit.kept = Math.min(count, l.srv ? TCP_MAX_SRV_ANSWERS : TCP_MAX_ANSWERS);
  }
  while (fit.kept > 1 && measure(fit.kept, fit.synced, fit.authority, compress) > budget) {
    fit.truncated = true;
    fit.authority = false;
    if (measure(fit.kept, fit.synced, false, compress) - maxSize > 100) fit.kept = binaryFit(fit.kept, maxSize, compress, measure);
    else fit.kept--;
    fit.synced = true;
  }
  if (l.transport === 'udp') fit.truncated = fit.kept < count;
  return fit;
}

/** Consul's dnsBinaryTruncate: the largest answer count whose message fits `maxSize` (0 when none does). */
function binaryFit(count: number, maxSize: number, compress: boolean, measure: Measure): number {
  let start = 0;
  let end = count + 1;
  while (end - start > 1) {
    const median = start + ((end - start) >> 1);
    const len = measure(median, true, false, compress);
    if (len <= maxSize) {
      if (maxSize - len < 10) return median;
      start = median;
    } else end = median;
  }
  return start;
}

/** The length of `xs.slice(0, end)` for an array of `count` items (udp_answer_limit may be any number). */
export function sliceLength(count: number, end: number): number {
  const e = Number.isNaN(end) ? 0 : Math.trunc(end);
  return Math.max(0, Math.min(count, e < 0 ? count + e : e));
}

/**
 * The additional records Consul's syncExtra keeps for the first `kept` answers: per SRV target the
 * first record owned by that name (an address before the node's meta TXT, which goes), following a
 * CNAME to its target's first record; nothing for other answers. OPT is always kept.
 */
export function syncExtra(answers: readonly PackedRecord[], kept: number, extras: readonly PackedRecord[]): PackedRecord[] {
  if (extras.length === 0) return [];
  const first = new Map<string, PackedRecord>();
  for (const e of extras) if (e.type !== OPT && !first.has(e.key)) first.set(e.key, e);
  const keep = new Set<PackedRecord>();
  const resolved = new Set<string>();
  for (let i = 0; i < kept; i++) {
    if (answers[i].type !== SRV) continue;
    let target: string | undefined = answers[i].refs[1];
    while (target !== undefined && !resolved.has(target)) {
      resolved.add(target);
      const e = first.get(target);
      if (e === undefined) break;
      keep.add(e);
      target = e.type === CNAME ? e.refs[1] : undefined;
    }
  }
  return extras.filter((e) => e.type === OPT || keep.has(e));
}

/** The names an answer refers to: its owner, an SRV target, a CNAME or NS host. */
export function referencedNames(a: Answer): string[] {
  if (a.type === 'SRV') return [bareName(a.name), bareName(a.data.target)];
  if (a.type === 'CNAME' || a.type === 'NS') return [bareName(a.name), bareName(a.data)];
  return [bareName(a.name)];
}

/** A name compared as DNS compares it: lower case, without the trailing dot. */
export function bareName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}
