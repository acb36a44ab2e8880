// gRPC statuses as grpc-js reports them (`<code> <NAME>: <details>`, with `code` and `details`),
// typed by etcd3's castGrpcError, for the store's own gRPC transport (grpc-channel.ts,
// grpc-stream.ts): errors.ts, faults.ts and settle.ts read them as they read grpc-js's.
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
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

/** How a session stood when one of its streams closed. */
export interface SessionState {
  connected: boolean;
  lastError: Error | null;
}

/** A stream's gRPC status as it arrives (response headers, trailers, or a trailers-only answer). */
export class CallStatus {
  code = -1;
  details = '';
  #error: Error | null = null;

  constructor(h2: ClientHttp2Stream) {
    h2.on('response', (h) => {
      const http = Number(h[':status']);
      if (http === 200) this.#read(h);
      else {
        this.code = httpStatusCode(http);
        this.details = `Received HTTP status code ${http}`;
      }
    });
    h2.on('trailers', (h) => this.#read(h));
    h2.on('error', (err) => { this.#error = err; }); // judged at close
  }

  #read(h: IncomingHttpHeaders): void {
    if (h['grpc-status'] === undefined) return;
    this.code = Number(h['grpc-status']);
    this.details = grpcMessage(h['grpc-message']);
  }

  /**
   * Once the stream has closed: null for OK, else the failure as grpc-js reports it. Without a
   * status, 'No connection established' (never sent) when its session never connected, else
   * 'Connection dropped' (outcome unknown).
   */
  failure(session: SessionState, rstCode: number | undefined): Error | null {
    if (this.code === 0) return null;
    if (this.code > 0) return grpcError(this.code, this.details);
    if (!session.connected) {
      return grpcError(UNAVAILABLE, `No connection established. Last error: ${(session.lastError ?? this.#error)?.message ?? 'connection closed'}`);
    }
    return grpcError(UNAVAILABLE, `Connection dropped${rstCode ? ` (RST_STREAM code ${rstCode})` : ''}`);
  }
}
