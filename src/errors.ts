// The typed error catalog shared by every layer. Transports map `code` to a status or RCODE
// once (http/errors.ts); messages that clients match keep Consul's exact text.

/** Stable error codes; each transport maps them in one table. */
export type ErrorCode =
  | 'bad_request'
  | 'not_found'
  | 'permission_denied'
  | 'unauthorized'
  | 'conflict'
  | 'too_large'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'unavailable'
  | 'no_leader'
  | 'internal'
  | 'compacted'
  | 'closed';

/** Base class: a message meant for the client, a code, and an optional cause. */
export class ProconsulError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Invalid input: 400. */
export class BadRequestError extends ProconsulError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('bad_request', message, options);
  }
}

/** A missing record: 404. */
export class NotFoundError extends ProconsulError {
  constructor(message = 'Not found', options?: { cause?: unknown }) {
    super('not_found', message, options);
  }
}

/** ACL denial: 403. */
export class PermissionDeniedError extends ProconsulError {
  constructor(message = 'Permission denied', options?: { cause?: unknown }) {
    super('permission_denied', message, options);
  }
}

/** A feature that needs ACLs while they are disabled: 401 (Consul's `ACL support disabled`). */
export class UnauthorizedError extends ProconsulError {
  constructor(message = 'ACL support disabled', options?: { cause?: unknown }) {
    super('unauthorized', message, options);
  }
}

/** A transaction rolled back or a conflicting write: 409. */
export class ConflictError extends ProconsulError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

/** A body or value over a configured limit: 413. */
export class TooLargeError extends ProconsulError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('too_large', message, options);
  }
}

/** A request refused by a rate limit (Consul's ErrRateLimited): 429. */
export class RateLimitedError extends ProconsulError {
  constructor(message = 'Rate limit reached, try again later', options?: { cause?: unknown }) {
    super('rate_limited', message, options);
  }
}

/**
 * A client agent's own RPC rate limit (limits.rpc_rate) refused a call: Consul's
 * structs.ErrRPCRateExceeded, answered over HTTP as a 429 without a body.
 */
export class RpcRateExceededError extends RateLimitedError {
  constructor() {
    super('RPC rate limit exceeded');
  }
}

/** Wrong HTTP method: 405 with the allowed methods. */
export class MethodNotAllowedError extends ProconsulError {
  readonly allow: string[];
  constructor(allow: string[]) {
    super('method_not_allowed', 'Method not allowed');
    this.allow = allow;
  }
}

/** Server-side failures that Consul reports as 500 with a message (e.g. `No path to datacenter`). */
export class InternalError extends ProconsulError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('internal', message, options);
  }
}

/**
 * Consul's structs.ErrNoLeader: the store had no leader to take the request for the whole of
 * performance.rpc_hold_timeout (an election that did not end): 500 `No cluster leader`.
 */
export class NoLeaderError extends ProconsulError {
  constructor(options?: { cause?: unknown }) {
    super('no_leader', 'No cluster leader', options);
  }
}

/** The store's history no longer holds the requested revision. */
export class CompactedError extends ProconsulError {
  readonly compactRevision: number;
  constructor(compactRevision: number) {
    super('compacted', `required revision has been compacted (compact revision ${compactRevision})`);
    this.compactRevision = compactRevision;
  }
}

/** Use after close. */
export class ClosedError extends ProconsulError {
  constructor(what = 'store') {
    super('closed', `${what} is closed`);
  }
}

/** Consul's text for an unknown datacenter. */
export const errNoPathToDatacenter = (): InternalError => new InternalError('No path to datacenter');
