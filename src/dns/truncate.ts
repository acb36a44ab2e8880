// Fitting answers to the transport as Consul does: over UDP without EDNS0 at most
// min(8, udp_answer_limit) answers, then every transport trims whole answers until the
// message fits (512 bytes, the EDNS0 size the client advertised, or 64 KiB over TCP),
// keeping only the additional records that the remaining answers refer to.
import dnsPacket, { type Answer, type Packet } from 'dns-packet';

/** Consul's cap on UDP answers regardless of udp_answer_limit. */
const MAX_UDP_ANSWERS = 8;
const DEFAULT_UDP_SIZE = 512;
const MAX_TCP_SIZE = 65535;

/** Trims a reply in place; returns true when answers were dropped. */
export function trimReply(pkt: Packet, transport: 'udp' | 'tcp', ednsSize: number | null, udpAnswerLimit: number): boolean {
  const answers = pkt.answers ?? [];
  const original = answers.length;
  let maxSize = MAX_TCP_SIZE;
  if (transport === 'udp') {
    maxSize = Math.min(Math.max(DEFAULT_UDP_SIZE, ednsSize ?? 0), MAX_TCP_SIZE - 68);
    const maxAnswers = Math.min(MAX_UDP_ANSWERS, udpAnswerLimit);
    if (maxSize === DEFAULT_UDP_SIZE && answers.length > maxAnswers) setAnswers(pkt, answers.slice(0, maxAnswers));
  }
  if ((pkt.answers ?? []).length > 1 && dnsPacket.encodingLength(pkt) > maxSize) {
    pkt.authorities = [];
    setAnswers(pkt, (pkt.answers ?? []).slice(0, largestFit(pkt, maxSize)));
  }
  return (pkt.answers ?? []).length < original;
}

/** Binary search for the largest answer count whose message fits (at least one answer). */
function largestFit(pkt: Packet, maxSize: number): number {
  const all = pkt.answers ?? [];
  const extras = pkt.additionals ?? [];
  let lo = 1;
  let hi = all.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const trial: Packet = { ...pkt, answers: all.slice(0, mid), additionals: syncExtra(all.slice(0, mid), extras) };
    if (dnsPacket.encodingLength(trial) <= maxSize) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function setAnswers(pkt: Packet, answers: Answer[]): void {
  pkt.answers = answers;
  pkt.additionals = syncExtra(answers, pkt.additionals ?? []);
}

/** Additional records still referred to by the answers (OPT always kept). */
export function syncExtra(answers: Answer[], extras: Answer[]): Answer[] {
  if (extras.length === 0) return extras;
  const names = new Set<string>();
  for (const a of answers) for (const n of referencedNames(a)) names.add(n);
  return extras.filter((e) => e.type === 'OPT' || names.has(bareName(e.name)));
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
