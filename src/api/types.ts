// Wire types of the HTTP API, with Consul's exact JSON names. The server (state, endpoints,
// HTTP handlers) and this client share them; never duplicate them elsewhere.

/** A key/value entry as `GET /v1/kv/:key` returns it; `Value` is base64 or null when empty. */
export interface KVPair {
  LockIndex: number;
  Key: string;
  /** uint64: a bigint when above 2^53 (consul lock's marker flags). */
  Flags: number | bigint;
  Value: string | null;
  Session?: string;
  CreateIndex: number;
  ModifyIndex: number;
  Namespace?: string;
  Partition?: string;
}

/** The KV verbs `/v1/txn` accepts. */
export type KVOpVerb =
  | 'set' | 'delete' | 'delete-cas' | 'delete-tree' | 'cas' | 'lock' | 'unlock'
  | 'get' | 'get-or-empty' | 'get-tree' | 'check-index' | 'check-session' | 'check-not-exists';

/** The verbs of the Node, Service and Check transaction operations. */
export type CatalogOpVerb = 'set' | 'cas' | 'get' | 'delete' | 'delete-cas';

/** A KV operation inside a transaction; `Value` is base64. */
export interface KVTxnOp {
  Verb: KVOpVerb;
  Key: string;
  Value?: string | null;
  Flags?: number | bigint;
  Index?: number;
  Session?: string;
  Namespace?: string;
  Partition?: string;
}

/** A Node operation inside a transaction (the node uses the catalog's Node shape). */
export interface NodeTxnOp {
  Verb: CatalogOpVerb;
  Node: Record<string, unknown>;
}

/** A Service operation inside a transaction. */
export interface ServiceTxnOp {
  Verb: CatalogOpVerb;
  Node: string;
  Service: Record<string, unknown>;
}

/** A Check operation inside a transaction. */
export interface CheckTxnOp {
  Verb: CatalogOpVerb;
  Check: Record<string, unknown>;
}

/** A Session operation inside a transaction (only `delete` is defined by Consul). */
export interface SessionTxnOp {
  Verb: 'delete';
  Session: Record<string, unknown>;
}

/** One element of the `PUT /v1/txn` body: exactly one member is set. */
export interface TxnOp {
  KV?: KVTxnOp;
  Node?: NodeTxnOp;
  Service?: ServiceTxnOp;
  Check?: CheckTxnOp;
  Session?: SessionTxnOp;
}

/** One result of a transaction, matching the op that produced it. */
export interface TxnResult {
  KV?: KVPair;
  Node?: Record<string, unknown>;
  Service?: Record<string, unknown>;
  Check?: Record<string, unknown>;
}

/** Why a transaction rolled back: the failing op's position and the reason. */
export interface TxnError {
  OpIndex: number;
  What: string;
}

/** The body of a `/v1/txn` response: Results on 200, Errors on 409. */
export interface TxnResponse {
  Results: TxnResult[] | null;
  Errors: TxnError[] | null;
}

/** `GET /v1/agent/self`: the sections clients rely on, the rest left open. */
export interface AgentSelf {
  Config: {
    Datacenter: string;
    PrimaryDatacenter?: string;
    NodeName: string;
    NodeID: string;
    Server: boolean;
    Revision: string;
    Version: string;
    [k: string]: unknown;
  };
  Member: {
    Name: string;
    Addr: string;
    Port: number;
    Tags: Record<string, string>;
    Status: number;
    [k: string]: unknown;
  };
  [section: string]: unknown;
}

/** A service check a session is tied to. */
export interface SessionServiceCheck {
  ID: string;
  Namespace?: string;
}

/** A session as `/v1/session/*` returns it (Consul's api.SessionEntry); LockDelay is nanoseconds. */
export interface SessionEntry {
  CreateIndex?: number;
  ModifyIndex?: number;
  ID?: string;
  Name?: string;
  Node?: string;
  /** Deprecated alias of NodeChecks, still accepted on create. */
  Checks?: string[] | null;
  NodeChecks?: string[] | null;
  ServiceChecks?: SessionServiceCheck[] | null;
  LockDelay?: number;
  /** `release` (the default) or `delete`. */
  Behavior?: string;
  /** A Go duration such as `15s`; empty for no TTL. */
  TTL?: string;
  Namespace?: string;
}
