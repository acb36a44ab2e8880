// The coordinate endpoint (Consul's Coordinate.*): updates are validated, checked against
// node:write and held per node and segment (latest wins); a timer flushes them to the store in
// batches, dropping nodes the catalog does not know. Reads block on the coordinates table.
import {
  coordinatesOf, coordinatesTableName, foldTenancyName, nodeKey, partitionCatalog, partitionCoordinateKey, partitionEnt, tenantKey,
  DEFAULT_TENANCY_NAME,
} from '../state/index.ts';
import { coordinateValid, coordinatesCompatible, newCoordinate } from '../gossip/index.ts';
import type { Coordinate, CoordinateEntry } from '../api/coordinate-types.ts';
import type { TimerHandle } from '../clock.ts';
import { InternalError } from '../errors.ts';
import type { Compare, Op } from '../store/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { commitPlanned } from './commit.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed, authorize, entContext, filterAllowed } from './acl-enforce.ts';

/** Consul's `consul.coordinate.*` server tuning. */
export interface CoordinateBatching {
  /** How often pending updates are written (Consul: 5 s, 100 ms in -dev). */
  updatePeriodMs: number;
  /** Updates per store transaction. */
  batchSize: number;
  /** Transactions per period; updates past batchSize × maxBatches are discarded. */
  maxBatches: number;
}

/** Consul's defaults outside -dev. */
export const COORDINATE_BATCHING: Readonly<CoordinateBatching> = Object.freeze({ updatePeriodMs: 5000, batchSize: 128, maxBatches: 5 });

/** A `PUT /v1/coordinate/update` body. */
export interface CoordinateUpdate {
  Node: string;
  Segment?: string;
  Coord?: Coordinate;
  /** The node's admin partition (absent: default); its coordinates are that partition's. */
  Partition?: string;
}

/** A pending update with its folded partition. */
interface PendingCoordinate extends CoordinateEntry {
  ap: string;
}

// The dimensionality every coordinate must share with ours (Serf's default 8).
const REFERENCE = newCoordinate();

/** Coordinate updates and reads. */
export class CoordinateEndpoint {
  readonly #deps: EndpointDeps;
  readonly #batching: CoordinateBatching;
  #pending = new Map<string, PendingCoordinate>();
  #timer: TimerHandle | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(deps: EndpointDeps, batching: CoordinateBatching = COORDINATE_BATCHING) {
    this.#deps = deps;
    this.#batching = batching;
  }

  /** Queues a node's coordinate; it reaches the store with the next batch. */
  update(req: CoordinateUpdate, authz?: AclIdentity): void {
    if (!coordinateValid(req.Coord)) throw new InternalError('invalid coordinate');
    if (!coordinatesCompatible(REFERENCE, req.Coord)) throw new InternalError('incompatible coordinate');
    const ap = foldTenancyName(req.Partition || DEFAULT_TENANCY_NAME);
    authorize(authz, 'nodeWrite', req.Node, entContext(partitionEnt(ap)));
    const entry: PendingCoordinate = { Node: req.Node, Segment: req.Segment ?? '', Coord: req.Coord, ap };
    // Keyed by partition and folded node name: spellings of one node are one coordinate (the latest wins).
    this.#pending.set(`${ap}\0${entry.Node.toLowerCase()}:${entry.Segment}`, entry);
    this.#timer ??= this.#deps.clock.setTimer(this.#batching.updatePeriodMs, () => {
      this.#timer = null;
      this.flush().catch((err: Error) => this.#deps.logger.warn({ error: err.message }, 'coordinate batch update failed'));
    });
  }

  /** Writes every pending update now (the batch timer calls this); resolves when applied. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushPending(), () => this.#flushPending());
    return this.#flushing;
  }

  /** Cancels the batch timer; pending updates are dropped as on a server shutdown. */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#pending.clear();
  }

  /** Every node's coordinates of the request's partition, sorted by node then segment, filtered by node:read. */
  nodes(opts: QueryOptions): Promise<QueryResult<CoordinateEntry[]>> {
    const ap = opts.ent?.partition;
    return blockingQuery(this.#deps, opts, (ws) => {
      const table = coordinatesOf(this.#deps.replica, ap);
      ws.addTable(coordinatesTableName(ap));
      const ctx = entContext(partitionEnt(ap ?? DEFAULT_TENANCY_NAME));
      const { items, filtered } = filterAllowed(opts.authz, table.all(), (e) => allowed(opts.authz, 'nodeRead', e.Node, ctx));
      return { index: table.index, value: items, filtered };
    });
  }

  /** One node's coordinates (one per segment; empty when it has none); needs node:read. */
  node(name: string, opts: QueryOptions): Promise<QueryResult<CoordinateEntry[]>> {
    const ap = opts.ent?.partition;
    authorize(opts.authz, 'nodeRead', name, entContext(partitionEnt(ap ?? DEFAULT_TENANCY_NAME)));
    return blockingQuery(this.#deps, opts, (ws) => {
      const table = coordinatesOf(this.#deps.replica, ap);
      ws.addKey(coordinatesTableName(ap), name.toLowerCase());
      return { index: table.index, value: table.node(name) };
    });
  }

  async #flushPending(): Promise<void> {
    const pending = [...this.#pending.values()];
    this.#pending = new Map();
    const { batchSize, maxBatches } = this.#batching;
    const limit = batchSize * maxBatches;
    if (pending.length > limit) {
      this.#deps.logger.warn({ discarded: pending.length - limit }, 'Discarded coordinate updates');
    }
    const kept = pending.slice(0, limit);
    for (let start = 0; start < kept.length; start += batchSize) {
      await this.#apply(kept.slice(start, start + batchSize));
    }
  }

  // Coordinates are deleted with their node, so updates for nodes the catalog does not hold are
  // dropped silently (Consul: the node will send again once it is registered).
  #apply(batch: PendingCoordinate[]): Promise<void> {
    return commitPlanned<void>(this.#deps, () => {
      const compares: Compare[] = [];
      const ops: Op[] = [];
      for (const { ap, ...e } of batch) {
        // The node named case-insensitively (Consul's node index) in its partition; stored under
        // its stored spelling, so that deleting the node deletes its coordinates.
        const node = partitionCatalog(this.#deps.replica, ap).node(e.Node);
        if (!node) continue;
        const entry: CoordinateEntry = node.Node === e.Node ? e : { ...e, Node: node.Node };
        // Pinned to the node as read: no coordinate is stored for a node deleted or renamed meanwhile.
        compares.push({ key: tenantKey(partitionEnt(ap), nodeKey(node.Node)), target: 'modRevision', op: '=', value: node.ModifyIndex });
        ops.push({ type: 'put', key: partitionCoordinateKey(ap, node.Node, e.Segment), value: Buffer.from(JSON.stringify(entry)) });
      }
      if (ops.length === 0) return { answer: undefined };
      return { txn: { compares, success: ops }, done: () => undefined };
    });
  }
}
