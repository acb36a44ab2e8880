// The one mapping from typed errors to HTTP status codes (Consul's codes; bodies are the
// error text, as Consul writes them).
import { ProconsulError, RpcRateExceededError, type ErrorCode } from '../errors.ts';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  permission_denied: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
  no_leader: 500,
  compacted: 500,
  closed: 503,
  unavailable: 503,
};

/** Status code and body text for any thrown value. */
export function errorResponse(err: unknown): { status: number; message: string } {
  // Consul writes only the status for its client's RPC limit (IsErrRPCRateExceeded).
  if (err instanceof RpcRateExceededError) return { status: 429, message: '' };
  if (err instanceof ProconsulError) return { status: STATUS[err.code], message: err.message };
  return { status: 500, message: err instanceof Error ? err.message : String(err) };
}
