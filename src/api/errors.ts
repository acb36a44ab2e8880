// Errors the API client throws, with the messages Consul's Go client produces so that CLI
// output and callers matching on text see the same words.
import { joinHostPort } from '../host-port.ts';

/** A response with an unexpected status; message as Go's `api.StatusError`. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly statusCode: number;
  /** The response body, trimmed. */
  readonly body: string;
  constructor(statusCode: number, body: string) {
    super(`Unexpected response code: ${statusCode} (${body})`);
    this.statusCode = statusCode;
    this.body = body;
  }
}

/** The request never got a response (refused, unresolvable, reset); message as Go's url.Error. */
export class TransportError extends Error {
  override name = 'TransportError';
  /** The Node error code such as ECONNREFUSED, when there is one. */
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Invalid client configuration (unknown scheme, unreadable token file). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const GO_ERRNO: Record<string, string> = {
  ECONNREFUSED: 'connect: connection refused',
  ECONNRESET: 'read: connection reset by peer',
  ENOENT: 'connect: no such file or directory',
  EACCES: 'connect: permission denied',
  ETIMEDOUT: 'i/o timeout',
  EHOSTUNREACH: 'connect: no route to host',
};

/** Renders a socket error the way Go's net/http reports it, e.g. `dial tcp 127.0.0.1:8500: connect: connection refused`. */
export function goDialError(err: NodeJS.ErrnoException, target: { socketPath?: string; host: string; port: number }): string {
  const code = err.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `dial tcp: lookup ${target.host}: no such host`;
  const where = target.socketPath ? `dial unix ${target.socketPath}` : `dial tcp ${joinHostPort(target.host, target.port)}`;
  const what = GO_ERRNO[code];
  return what ? `${where}: ${what}` : `${where}: ${err.message}`;
}

/** Renders a file error as Go's os package does, e.g. `open /x: no such file or directory`. */
export function goFileError(err: NodeJS.ErrnoException, path: string): string {
  const what = err.code === 'ENOENT' ? 'no such file or directory'
    : err.code === 'EACCES' ? 'permission denied'
    : err.code === 'EISDIR' ? 'is a directory'
    : err.code === 'ENOTDIR' ? 'not a directory'
    : err.message;
  return err.code === 'EISDIR' ? `read ${path}: ${what}` : `open ${path}: ${what}`;
}
