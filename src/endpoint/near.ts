// `?near=<node>` on catalog and health reads (Consul's sortNodesByDistanceFrom): a stable sort
// by estimated RTT from the source node's coordinate; nodes without one keep their order at the
// end, and without a source coordinate nothing moves. `_agent` names the answering agent.
import { estimateRtt, intersectCoordinates } from '../gossip/index.ts';
import { coordinatesOf, type CoordinateSet } from '../state/index.ts';
import type { EndpointDeps } from './deps.ts';

/** Estimated RTT in seconds between two coordinate sets, +Infinity when either lacks one. */
export function computeDistance(a: CoordinateSet, b: CoordinateSet): number {
  const [x, y] = intersectCoordinates(a, b);
  if (!x || !y || x.Vec.length !== y.Vec.length) return Infinity;
  return estimateRtt(x, y);
}

/** Sorts `items` (in place, stably) by distance from `near`'s coordinates in `partition` (absent: default); returns them. */
export function sortNear<T>(deps: EndpointDeps, near: string | undefined, items: T[], nodeOf: (item: T) => string, partition?: string): T[] {
  if (!near || items.length < 2) return items;
  const table = coordinatesOf(deps.replica, partition);
  const source = table.set(near === '_agent' ? deps.config.nodeName : near);
  if (source.size === 0) return items;
  const dist = new Map<string, number>();
  const distanceOf = (node: string): number => {
    let d = dist.get(node);
    if (d === undefined) dist.set(node, (d = computeDistance(source, table.set(node))));
    return d;
  };
  // Infinity - Infinity is NaN; equal distances (including two missing ones) compare as 0.
  return items.sort((a, b) => {
    const da = distanceOf(nodeOf(a));
    const db = distanceOf(nodeOf(b));
    return da === db ? 0 : da < db ? -1 : 1;
  });
}
