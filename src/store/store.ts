// The Store contract: a revisioned key-value log, the only layer that touches disk or etcd.
// Every committed transaction gets the next revision; keys carry create/mod revisions and a
// version; watches deliver every change in revision order. Backends live in sub-folders.

/** One stored key with the revisions that describe its history. */
export interface KeyValue {
  key: string;
  value: Uint8Array;
  /** Revision of the transaction that created this incarnation of the key. */
  createRevision: number;
  /** Revision of the transaction that last wrote the key. */
  modRevision: number;
  /** Number of writes since creation (1 after the create). */
  version: number;
  /** Lease the key is attached to, 0 for none. */
  lease: number;
}

/** What a compare looks at. A missing key has version, createRevision and modRevision 0. */
export type CompareTarget = 'value' | 'version' | 'createRevision' | 'modRevision';

/** A guard evaluated atomically with a transaction. */
export interface Compare {
  key: string;
  target: CompareTarget;
  op: '=' | '!=' | '<' | '>';
  /** A number for revision/version targets, bytes for `value`. */
  value: number | Uint8Array;
}

/**
 * A transaction step. Reads see the writes of earlier steps in the same branch. A put returns the
 * key's previous state only when asked (`prevKv`, etcd's prev_kv): reading it back costs a value
 * read the backend may keep on disk, and writers rarely need it.
 */
export type Op =
  | { type: 'put'; key: string; value: Uint8Array; lease?: number; prevKv?: boolean }
  | { type: 'delete'; key: string }
  | { type: 'deletePrefix'; prefix: string }
  | { type: 'get'; key: string }
  | { type: 'range'; prefix: string };

/** The outcome of one op, in op order. */
export type OpResult =
  /** `prev` is the key before the put when the op asked for it (`prevKv`), else null. */
  | { type: 'put'; prev: KeyValue | null }
  | { type: 'delete'; deleted: KeyValue[] }
  | { type: 'get'; kv: KeyValue | null }
  | { type: 'range'; kvs: KeyValue[] };

/** A transaction request: if every compare holds, run `success`, else `failure`. */
export interface TxnRequest {
  compares?: Compare[];
  success: Op[];
  failure?: Op[];
}

/** The answer to a transaction. `revision` is the store revision after it (new if it wrote). */
export interface TxnResponse {
  succeeded: boolean;
  revision: number;
  results: OpResult[];
}

/**
 * One change in a committed transaction. A delete's `kv` names the key and carries the delete's
 * revision as `modRevision`; its other fields are unspecified (the memory and embedded stores give
 * the last record, the etcd store an empty value and zeros: the last record would cost etcd a read
 * and a send per event), so no reader may rely on them. Readers hold the state they need.
 */
export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

/** All changes of one committed revision, in op order. */
export interface WatchBatch {
  revision: number;
  events: WatchEvent[];
}

/** A running watch; `cancel()` stops delivery. */
export interface Watch {
  cancel(): void;
}

/** Handlers for a watch: batches arrive strictly in revision order, never concurrently. */
export interface WatchHandlers {
  onBatch(batch: WatchBatch): void;
  /** The requested start is older than the retained history (compacted); re-list then watch. */
  onCompacted?(compactRevision: number): void;
  onError?(err: Error): void;
}

/** The result of a range read at a single revision. */
export interface RangeResult {
  kvs: KeyValue[];
  revision: number;
}

/** Lease identifiers are positive integers. */
export interface LeaseGrant {
  id: number;
  ttlSeconds: number;
}

/** The revisioned key-value store every backend implements; conformance.ts tests the contract. */
export interface Store {
  /** Backend name: `memory`, `embedded` or `etcd`. */
  readonly kind: string;
  /** Opens files or connections; idempotent. */
  open(): Promise<void>;
  /** Flushes and releases everything; later calls reject. */
  close(): Promise<void>;
  /** The current revision, read linearizably (0 for an empty new store). */
  currentRevision(): Promise<number>;
  /** All keys with the prefix (empty prefix: every key), sorted by key, at one revision. */
  range(prefix: string): Promise<RangeResult>;
  /** Reads one key. */
  get(key: string): Promise<KeyValue | null>;
  /** Runs a transaction atomically; resolves only once it is durable. */
  txn(req: TxnRequest): Promise<TxnResponse>;
  /** Delivers every batch with revision > `afterRevision`, in order, then live changes. */
  watch(afterRevision: number, handlers: WatchHandlers): Watch;
  /** Grants a lease; keys put with it are deleted when it expires or is revoked. */
  leaseGrant(ttlSeconds: number): Promise<LeaseGrant>;
  /** Renews a lease to its full TTL; rejects with NotFoundError if it has expired. */
  leaseKeepAlive(id: number): Promise<void>;
  /** Revokes a lease and deletes its keys in one revision. */
  leaseRevoke(id: number): Promise<void>;
  /** Streams the whole keyspace (values and lease ids) as an opaque versioned byte stream. */
  snapshot(): AsyncIterable<Uint8Array>;
  /** Replaces the whole keyspace from a snapshot stream; restored keys get new revisions. */
  restore(stream: AsyncIterable<Uint8Array>): Promise<number>;
}
