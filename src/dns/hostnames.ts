// Hostname addresses resolved as Consul's makeRecordFromFQDN does: a CNAME answer (a service or
// node whose address is a hostname) is followed by the CNAME, A and AAAA records the hostname
// resolves to, and an SRV answer whose target is a hostname gets them in the additional section.
// Without EDNS0 at most five records per hostname are kept; their TTL becomes the answer's.
// The resolver (handler.ts) asks the recursors for an A record, or answers names under our
// domain itself with an ANY question, up to three levels deep. A server answering for a client
// agent leaves the resolving to the client (HostnamesDelegated), which uses its own recursors.
import type { Answer } from 'dns-packet';
import type { Sections } from './answers.ts';
import { bareName } from './truncate.ts';

/** Consul's maxRecurseRecords: records kept per hostname when the question has no EDNS0. */
export const MAX_RECURSE_RECORDS = 5;

/** Consul's default maxRecursionLevel: how deep names under our domain are followed. */
export const MAX_RECURSION_LEVEL = 3;

export { HostnamesDelegated } from './delegated.ts';

/** The records a hostname resolves to ([] when nothing answers); `level` is the recursion depth left. */
export type HostnameResolver = (name: string, level: number) => Promise<Answer[]>;

/** The hostnames a reply would resolve: CNAME targets in the answers, SRV targets without additional records. */
export function hostnamesOf(s: Sections, qtype: string): string[] {
  const out: string[] = [];
  if (qtype === 'SRV') {
    const glued = new Set(s.additionals.map((a) => bareName(a.name)));
    for (const a of s.answers) if (a.type === 'SRV' && !glued.has(bareName(a.data.target))) out.push(a.data.target);
  } else {
    for (const a of s.answers) if (a.type === 'CNAME') out.push(a.data);
  }
  return out;
}

/** The sections with each hostname's records added after its CNAME answer, or to the additionals for SRV. */
export async function withHostnames(s: Sections, qtype: string, edns: boolean, level: number, resolve: HostnameResolver): Promise<Sections> {
  const names = hostnamesOf(s, qtype);
  if (names.length === 0) return s;
  const found = new Map<string, Answer[]>();
  await Promise.all([...new Set(names.map(bareName))].map(async (n) => found.set(n, await resolveKept(n, edns, level, resolve))));
  const withTtl = (records: Answer[], ttl: number | undefined): Answer[] => records.map((r) => ({ ...r, ttl }) as Answer);
  if (qtype === 'SRV') {
    const additionals = [...s.additionals];
    const done = new Set<string>();
    for (const a of s.answers) {
      if (a.type !== 'SRV') continue;
      const n = bareName(a.data.target);
      if (!found.has(n) || done.has(n)) continue;
      done.add(n);
      additionals.push(...withTtl(found.get(n)!, a.ttl));
    }
    return { ...s, additionals };
  }
  const answers: Answer[] = [];
  for (const a of s.answers) {
    answers.push(a);
    if (a.type === 'CNAME') answers.push(...withTtl(found.get(bareName(a.data)) ?? [], a.ttl));
  }
  return { ...s, answers };
}

async function resolveKept(name: string, edns: boolean, level: number, resolve: HostnameResolver): Promise<Answer[]> {
  let records: Answer[];
  try {
    records = await resolve(name, level);
  } catch {
    return [];
  }
  const kept = records.filter((r) => r.type === 'CNAME' || r.type === 'A' || r.type === 'AAAA');
  return edns ? kept : kept.slice(0, MAX_RECURSE_RECORDS);
}
