// What every node:http listener of the agent shares, the HTTP API's and the internal RPC
// port's: HTTP/1.1 timeouts fit for blocking queries, the bound address as Consul prints it, a
// TLS reload for new connections, and the teardown of open connections.
import http, { type RequestListener } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Server as TlsServer, TlsOptions, TLSSocket } from 'node:tls';
import { joinHostPort } from '../host-port.ts';

/**
 * HTTP/1.1 timeouts: no per-request deadline (node's default ends requests after 5 minutes,
 * while blocking queries last up to max_query_time) and idle keep-alive sockets kept 65 s
 * (node's default is 5 s), so clients reuse their connections.
 */
export const HTTP1_TIMEOUTS = { keepAliveTimeout: 65_000, requestTimeout: 0 } as const;

/** An HTTP/1.1 server with HTTP1_TIMEOUTS. */
export function createHttp1Server(listener?: RequestListener): http.Server {
  return http.createServer({ ...HTTP1_TIMEOUTS }, listener);
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
