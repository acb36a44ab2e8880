// The coordinate endpoint (Consul's Coordinate.*): updates are validated, checked against
// node:write and held per node and segment (latest wins); a timer flushes them to the store in
// batches, dropping nodes the catalog does not know. Reads block on the coordinates table.
import { COORDINATES_TABLE, coordinateKey, nodeKey } from '../state/index.ts';
import { coordinateValid, coordinatesCompatible, newCoordinate } from '../gossip/index.ts';
import type { Coordinate, CoordinateEntry } from '../api/coordinate-types.ts';
import type { TimerHandle } from '../clock.ts';
import { InternalError } from '../errors.ts';
import type { Compare, Op } from '../store/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { commitPlanned } from './commit.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed, authorize, filterAllowed } from './acl-enforce.ts';

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
}

// The dimensionality every coordinate must share with ours (Serf's default 8).
const REFERENCE = newCoordinate();

/** Coordinate updates and reads. */
export class CoordinateEndpoint {
  readonly #deps: EndpointDeps;
  readonly #batching: CoordinateBatching;
  #pending = new Map<string, CoordinateEntry>();
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
    authorize(authz, 'nodeWrite', req.Node);
    const entry: CoordinateEntry = { Node: req.Node, Segment: req.Segment ?? '', Coord: req.Coord };
    // Keyed by the folded node name: spellings of one node are one coordinate (the latest wins).
    this.#pending.set(`${entry.Node.toLowerCase()}:${entry.Segment}`, entry);
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

  /** Every node's coordinates, sorted by node then segment, filtered by node:read. */
  nodes(opts: QueryOptions): Promise<QueryResult<CoordinateEntry[]>> {
    const table = this.#deps.replica.coordinates;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(COORDINATES_TABLE);
      const { items, filtered } = filterAllowed(opts.authz, table.all(), (e) => allowed(opts.authz, 'nodeRead', e.Node));
      return { index: table.index, value: items, filtered };
    });
  }

  /** One node's coordinates (one per segment; empty when it has none); needs node:read. */
  node(name: string, opts: QueryOptions): Promise<QueryResult<CoordinateEntry[]>> {
    authorize(opts.authz, 'nodeRead', name);
    const table = this.#deps.replica.coordinates;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addKey(COORDINATES_TABLE, name.toLowerCase());
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
  #apply(batch: CoordinateEntry[]): Promise<void> {
    return commitPlanned<void>(this.#deps, () => {
      const compares: Compare[] = [];
      const ops: Op[] = [];
      const cat = this.#deps.replica.catalog;
      for (const e of batch) {
        // The node named case-insensitively (Consul's node index); stored under its stored
        // spelling, so that deleting the node deletes its coordinates.
        const node = cat.node(e.Node);
        if (!node) continue;
        const entry = node.Node === e.Node ? e : { ...e, Node: node.Node };
        // Pinned to the node as read: no coordinate is stored for a node deleted or renamed meanwhile.
        compares.push({ key: nodeKey(node.Node), target: 'modRevision', op: '=', value: node.ModifyIndex });
        ops.push({ type: 'put', key: coordinateKey(node.Node, e.Segment), value: Buffer.from(JSON.stringify(entry)) });
      }
      if (ops.length === 0) return { answer: undefined };
      return { txn: { compares, success: ops }, done: () => undefined };
    });
  }
}
