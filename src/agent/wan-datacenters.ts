// The datacenter view of the WAN pool, as Consul's router computes it: every datacenter that has
// a server in the pool, sorted by the median estimated RTT from this server to that
// datacenter's servers (the local one counts as zero; no coordinate is +Inf; ties by name), the
// raw WAN coordinates per datacenter, and the servers of one datacenter to forward to.
import { estimateRtt, type Coordinate, type Member } from '../gossip/index.ts';
import { shuffle } from '../shuffle.ts';
import type { CoordinateDatacenterMap, CoordinateEntry } from '../api/coordinate-types.ts';

/** A WAN member that is a Consul server, with its datacenter and its short (LAN) name. */
export interface WanServer {
  member: Member;
  datacenter: string;
  /** The node name without the `.<dc>` suffix. */
  shortName: string;
}

/** Consul's metadata.IsConsulServer on a WAN member: role=consul and a dc tag. */
export function wanServer(m: Member): WanServer | null {
  const dc = m.tags.dc;
  if (m.tags.role !== 'consul' || !dc) return null;
  const suffix = `.${dc}`;
  return { member: m, datacenter: dc, shortName: m.name.endsWith(suffix) ? m.name.slice(0, -suffix.length) : m.name };
}

/** Consul's lib.ComputeDistance: seconds, +Inf when either side has no (compatible) coordinate. */
export function computeDistance(a: Coordinate | undefined, b: Coordinate | undefined): number {
  if (!a || !b) return Infinity;
  try {
    return estimateRtt(a, b);
  } catch {
    return Infinity;
  }
}

/**
 * Datacenters by median RTT from `self` (Consul's GetDatacentersByDistance): names sorted first,
 * then a stable sort by distance, so equal distances (the local datacenter's 0 included) keep
 * name order.
 */
export function datacentersByDistance(
  members: Member[], localDc: string, self: Coordinate | undefined, coordinateOf: (name: string) => Coordinate | undefined,
): string[] {
  const rtts = new Map<string, number[]>();
  for (const m of members) {
    const s = wanServer(m);
    if (!s) continue;
    const rtt = s.datacenter === localDc ? 0 : computeDistance(self, coordinateOf(m.name));
    rtts.set(s.datacenter, [...(rtts.get(s.datacenter) ?? []), rtt]);
  }
  const median = new Map<string, number>();
  for (const [dc, list] of rtts) {
    list.sort((a, b) => a - b);
    median.set(dc, list[Math.floor(list.length / 2)]);
  }
  const names = [...median.keys()].sort();
  // Array.prototype.sort is stable; Infinity compares equal to Infinity through this branch.
  return names.sort((a, b) => {
    const x = median.get(a)!;
    const y = median.get(b)!;
    return x === y ? 0 : x < y ? -1 : 1;
  });
}

/** `/v1/coordinate/datacenters`: each datacenter's servers that have a cached coordinate, node names without the dc suffix. */
export function datacenterMaps(members: Member[], coordinateOf: (name: string) => Coordinate | undefined): CoordinateDatacenterMap[] {
  const byDc = new Map<string, CoordinateEntry[]>();
  for (const m of members) {
    const s = wanServer(m);
    if (!s) continue;
    const coord = coordinateOf(m.name);
    if (!coord) continue;
    byDc.set(s.datacenter, [...(byDc.get(s.datacenter) ?? []), { Node: s.shortName, Segment: '', Coord: coord }]);
  }
  return [...byDc.keys()].sort().map((dc) => ({
    Datacenter: dc, AreaID: 'wan',
    Coordinates: byDc.get(dc)!.sort((a, b) => (a.Node < b.Node ? -1 : a.Node > b.Node ? 1 : 0)),
  }));
}

/** The alive servers of `dc`, in random order (the forwarding order, Consul's manager shuffles too). */
export function serversOf(members: Member[], dc: string, random: () => number): WanServer[] {
  const out = members.map(wanServer).filter((s): s is WanServer => s !== null && s.datacenter === dc && s.member.state === 'alive');
  return shuffle(out, random);
}
