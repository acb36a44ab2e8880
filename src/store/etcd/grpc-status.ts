// gRPC statuses as grpc-js reports them (`<code> <NAME>: <details>`, with `code` and `details`),
// typed by etcd3's castGrpcError, for the store's own gRPC transport (grpc-channel.ts,
// grpc-stream.ts): errors.ts, faults.ts and settle.ts read them as they read grpc-js's.
import { castGrpcError } from 'etcd3';

const STATUS = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL',
  'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];
/** gRPC's DEADLINE_EXCEEDED. */
export const DEADLINE_EXCEEDED = 4;
/** gRPC's UNAVAILABLE. */
export const UNAVAILABLE = 14;
/** gRPC's INTERNAL. */
export const INTERNAL = 13;

/** A failure as grpc-js reports one, then typed by etcd3. */
export function grpcError(code: number, details: string): Error {
  const err = Object.assign(new Error(`${code} ${STATUS[code] ?? 'UNKNOWN'}: ${details}`), { code, details });
  return castGrpcError(err);
}

/** grpc-js's status for an HTTP status other than 200. */
export function httpStatusCode(status: number): number {
  switch (status) {
    case 400: return INTERNAL;
    case 401: return 16;
    case 403: return 7;
    case 404: return 12;
    case 429: case 502: case 503: case 504: return UNAVAILABLE;
    default: return 2;
  }
}

/** A grpc-message header's text (percent-encoded on the wire). */
export function grpcMessage(v: unknown): string {
  const s = typeof v === 'string' ? v : '';
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
