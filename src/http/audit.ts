// The HTTP server's side of audit logging (Consul Enterprise's audit log of HTTP API calls): each
// routed request is reported to the audit log before its handler runs, and its answer's status
// (and error text) once it is known. Only a server given an audit log pays for any of this.
import type * as http from 'node:http';
import type { Abortable } from '../state/notify.ts';
import type { RequestSource } from './exchange.ts';
import type { Outcome } from './response.ts';

/** One routed HTTP API request as the audit log records it. */
export interface AuditedRequest {
  method: string;
  /** The request path, without the query. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The client's `ip:port`. */
  remoteAddr: string;
}

/** The audit log the HTTP server reports to. */
export interface AuditRecorder {
  /** Records the start of a request; the returned function records its completion. */
  begin(req: AuditedRequest): (status: number, error?: string) => void;
}

/** A request source whose answer is reported to the audit log before it is written. */
export class AuditedSource implements RequestSource {
  readonly #inner: RequestSource;
  readonly #done: (status: number, error?: string) => void;

  constructor(inner: RequestSource, done: (status: number, error?: string) => void) {
    this.#inner = inner;
    this.#done = done;
  }

  get signal(): AbortSignal {
    return this.#inner.signal;
  }

  get aborts(): Abortable {
    return this.#inner.aborts;
  }

  body(limit?: number, tooLarge?: (size: number) => string): Promise<Buffer> {
    return this.#inner.body(limit, tooLarge);
  }

  answer(out: Outcome): void {
    // An error answer's text is recorded (a stream's is not read).
    const error = out.status >= 400 && !out.stream ? String(out.body) : undefined;
    this.#done(out.status, error);
    this.#inner.answer(out);
  }
}
