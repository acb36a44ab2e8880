// What every node:http listener of the agent shares, the HTTP API's and the internal RPC
// port's: HTTP/1.1 timeouts fit for blocking queries, the bound address as Consul prints it, a
// TLS reload for new connections, and the teardown of open connections.
import type http from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Server as TlsServer, TlsOptions, TLSSocket } from 'node:tls';
import { joinHostPort } from '../host-port.ts';
import { nodeHttp } from '../node-http.ts';
import { CAPTURING } from './incoming.ts';
import { RELEASING } from './outgoing.ts';

/**
 * HTTP/1.1 timeouts: no per-request deadline (node's default ends requests after 5 minutes,
 * while blocking queries last up to max_query_time) and idle keep-alive sockets kept 65 s
 * (node's default is 5 s), so clients reuse their connections.
 */
export const HTTP1_TIMEOUTS = { keepAliveTimeout: 65_000, requestTimeout: 0 } as const;

/** Go's http.DefaultMaxHeaderBytes: Consul's request header limit when max_header_bytes is unset. */
export const GO_DEFAULT_MAX_HEADER_BYTES = 1 << 20;

/**
 * The request header limit for Consul's http_config.max_header_bytes. Go reads up to the limit
 * plus 4096 bytes (its bufio slop) of request line and headers before answering 431; node's
 * parser counts the URL and the header names and values against its limit, so the two refuse at
 * nearly, not exactly, the same size. Node's own default (16 KiB) would refuse headers Consul takes.
 */
export function headerLimit(maxHeaderBytes = 0): number {
  return (maxHeaderBytes > 0 ? maxHeaderBytes : GO_DEFAULT_MAX_HEADER_BYTES) + 4096;
}

/**
 * The HTTP/2 header list limit for max_header_bytes, as Go's http2 server sets it: the limit (Go's
 * 1 MiB default when unset) plus 32 bytes for each of ten typical fields. Node's http2 server
 * advertises SETTINGS_MAX_HEADER_LIST_SIZE but does not refuse a larger list, so it is checked per request.
 */
export function h2HeaderListLimit(maxHeaderBytes = 0): number {
  return (maxHeaderBytes > 0 ? maxHeaderBytes : GO_DEFAULT_MAX_HEADER_BYTES) + 10 * 32;
}

/** An HTTP/2 request's header list size as HPACK counts it: name, value and 32 bytes per field, pseudo-headers included. */
export function h2HeaderListSize(headers: Record<string, string | string[] | undefined>): number {
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) size += Buffer.byteLength(name) + Buffer.byteLength(v) + 32;
  }
  return size;
}

/** Go's http2 answer to a header list over its limit (handleHeaderListTooLong). */
export const H2_HEADERS_TOO_LARGE = '<h1>HTTP Error 431</h1><p>Request Header Field(s) Too Large</p>';

/**
 * An HTTP/1.1 server with HTTP1_TIMEOUTS whose requests' bodies can be captured (incoming.ts) and
 * whose responses release their header block once sent (outgoing.ts);
 * `maxHeaderSize` unset keeps node's default (the internal RPC listener's).
 */
export function createHttp1Server(listener?: RequestListener, maxHeaderSize?: number): http.Server {
  const srv = nodeHttp.createServer({ ...HTTP1_TIMEOUTS, ...CAPTURING, ...RELEASING, ...(maxHeaderSize ? { maxHeaderSize } : {}) }, listener);
  srv.on('connection', makeIdleTimer);
  return srv;
}

/**
 * Gives a new connection the Timeout object its keep-alive deadline will use, unarmed. node:http
 * arms that deadline when an answer finishes, and a socket reuses the Timeout it was last given
 * (cleared ones included), but makes one on its first answer. For a blocking query that is
 * minutes after the connection opened: a fresh Timeout (≈ 240 bytes with its argument list and
 * async ids) per answer of a fan-out wave, held by an old socket and promoted by the wave's
 * scavenges, ≈ 0.6 MB per 2,500 answers. Made now, it grows old with the socket, for the same
 * memory a connection holds after its first answer anyway.
 */
function makeIdleTimer(sock: Socket): void {
  sock.setTimeout(HTTP1_TIMEOUTS.keepAliveTimeout);
  sock.setTimeout(0);
}

/** `host:port` of a bound TCP address, IPv6 hosts in brackets. */
export function hostPort(a: AddressInfo): string {
  return joinHostPort(a.address, a.port);
}

/**
 * New TLS settings for a TLS server's new connections (a reload); open ones keep theirs.
 * requestCert and rejectUnauthorized are read by each new connection, and setSecureContext
 * leaves them as they were.
 */
export function reloadTls(srv: TlsServer, options: TlsOptions, rejectUnauthorized = options.rejectUnauthorized === true): void {
  srv.setSecureContext(options);
  Object.assign(srv, { requestCert: options.requestCert === true, rejectUnauthorized });
}

/** The TCP socket under a TLS socket (node:tls keeps it as `_parent`), if any. */
export function rawSocket(s: TLSSocket): Socket | undefined {
  return (s as TLSSocket & { _parent?: Socket })._parent;
}

/**
 * Ends an HTTP/1.1 server's connections: idle ones at once, the rest (answers in flight,
 * blocked queries) after `graceMs`, or at once with 0.
 */
export function endConnections(srv: http.Server, graceMs: number): void {
  srv.closeIdleConnections();
  if (graceMs > 0) setTimeout(() => srv.closeAllConnections(), graceMs).unref();
  else srv.closeAllConnections();
}

/**
 * Node's own handshake timer, made never to fire (its largest allowed delay): handshakeDeadline
 * replaces it. Passing 0 would mean node's 120 s default.
 */
export const NODE_HANDSHAKE_TIMEOUT_OFF = 2 ** 31 - 1;

const HANDSHAKE = Symbol('handshake deadline');
type Handshaking = Socket & { [HANDSHAKE]?: HandshakeDeadline | null };

/**
 * Consul's https_handshake_timeout on a raw TLS connection: one absolute deadline from accept, as
 * Go's handshake under a deadline set once, so a client trickling bytes cannot hold its handshake
 * open; handshakeDone ends it. Node's handshakeTimeout is an idle timer instead, and it fires in
 * the timers phase, before the poll phase reads what arrived meanwhile: a server whose event loop
 * was busy for longer than the timeout (thousands of HTTP/2 streams opening at once on a loaded
 * machine) cut clients that had answered in time, each with its up to 250 streams. Here the
 * verdict waits until the loop has read what is there, and a deadline the busy loop judged late
 * (by a tenth of the timeout or more) gets one more period, once: the server, not the client,
 * spent that time.
 */
class HandshakeDeadline {
  readonly sock: Socket;
  readonly ms: number;
  /** When the deadline falls (performance.now()). */
  due: number;
  /** The late deadline's one extra period was given. */
  extended = false;
  /** The timer fired this long after `due`. */
  late = 0;
  timer: NodeJS.Timeout;

  constructor(sock: Socket, ms: number) {
    this.sock = sock;
    this.ms = ms;
    this.due = performance.now() + ms;
    this.timer = setTimeout(HandshakeDeadline.expired, ms, this).unref();
  }

  /** The timer fired: judge after the poll phase (setImmediate), once pending input was read. */
  static expired(this: void, d: HandshakeDeadline): void {
    d.late = performance.now() - d.due;
    setImmediate(HandshakeDeadline.judge, d);
  }

  static judge(this: void, d: HandshakeDeadline): void {
    const sock = d.sock as Handshaking;
    if (sock[HANDSHAKE] !== d || sock.destroyed) return;
    if (!d.extended && d.late * 10 >= d.ms) {
      d.extended = true;
      d.due = performance.now() + d.ms;
      d.timer = setTimeout(HandshakeDeadline.expired, d.ms, d).unref();
      return;
    }
    sock[HANDSHAKE] = null;
    sock.destroy();
  }
}

/** Starts the handshake deadline of a raw connection a TLS server accepted. */
export function handshakeDeadline(sock: Socket, ms: number): void {
  if (ms > 0) (sock as Handshaking)[HANDSHAKE] = new HandshakeDeadline(sock, ms);
}

/** The connection's handshake completed: its deadline ends. */
export function handshakeDone(sock: Socket): void {
  const d = (sock as Handshaking)[HANDSHAKE];
  if (!d) return;
  clearTimeout(d.timer);
  (sock as Handshaking)[HANDSHAKE] = null;
}
