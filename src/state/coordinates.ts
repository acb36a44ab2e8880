// The coordinates table of the replica (Consul's `coordinates`): the last LAN coordinate each
// node reported per network segment, under `coordinate/<node>/<segment>`, with node names
// matched case-insensitively as Consul's index does.
import type { WatchEvent } from '../store/index.ts';
import type { Coordinate, CoordinateEntry } from '../api/coordinate-types.ts';

/** Store prefix of coordinate records. */
export const COORDINATE_PREFIX = 'coordinate/';
/** Notifier table; keys are lower-cased node names. */
export const COORDINATES_TABLE = 'coordinates';

/** Store key of one node's coordinate in one segment. */
export const coordinateKey = (node: string, segment: string): string =>
  `${COORDINATE_PREFIX}${encodeURIComponent(node)}/${encodeURIComponent(segment)}`;
/** Store prefix of every coordinate of a node (deleted with the node). */
export const coordinateNodePrefix = (node: string): string => `${COORDINATE_PREFIX}${encodeURIComponent(node)}/`;

/** A node's coordinates by segment (Consul's lib.CoordinateSet). */
export type CoordinateSet = Map<string, Coordinate>;

/** Coordinates by node and segment. */
export class CoordinatesTable {
  readonly #rows = new Map<string, Map<string, CoordinateEntry>>();
  /** Highest revision that changed the table, deletes included. */
  index = 0;

  /** Applies one store event; returns the notifier key it changed. */
  apply(ev: WatchEvent): [string, string][] {
    const [node, segment] = ev.kv.key.slice(COORDINATE_PREFIX.length).split('/').map(decodeURIComponent);
    const id = node.toLowerCase();
    let byNode = this.#rows.get(id);
    if (ev.type === 'put') {
      const rec = JSON.parse(Buffer.from(ev.kv.value).toString('utf8')) as CoordinateEntry;
      if (!byNode) this.#rows.set(id, (byNode = new Map()));
      byNode.set(segment, { Node: rec.Node, Segment: rec.Segment, Coord: rec.Coord });
    } else if (byNode) {
      byNode.delete(segment);
      if (byNode.size === 0) this.#rows.delete(id);
    }
    this.index = Math.max(this.index, ev.kv.modRevision);
    return [[COORDINATES_TABLE, id]];
  }

  /** Empties the table (before a re-list). */
  reset(): void {
    this.#rows.clear();
    this.index = 0;
  }

  /** Number of nodes with a coordinate. */
  get size(): number {
    return this.#rows.size;
  }

  /** Every entry, sorted by node name (case-insensitive) then segment, as Consul's id index. */
  all(): CoordinateEntry[] {
    const ids = [...this.#rows.keys()].sort();
    return ids.flatMap((id) => [...this.#rows.get(id)!.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e));
  }

  /** One node's entries, sorted by segment. */
  node(node: string): CoordinateEntry[] {
    const byNode = this.#rows.get(node.toLowerCase());
    return byNode ? [...byNode.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e) : [];
  }

  /** One node's coordinates by segment (empty when it has none). */
  set(node: string): CoordinateSet {
    const out: CoordinateSet = new Map();
    for (const [segment, e] of this.#rows.get(node.toLowerCase()) ?? []) out.set(segment, e.Coord);
    return out;
  }
}
