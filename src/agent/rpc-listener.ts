// The server port's front door (Consul's handleConn for tls.internal_rpc): each connection's
// first byte tells a TLS handshake (0x16) from plaintext HTTP. TLS is served with the agent's
// internal RPC key pair, requiring a client certificate from the CA with verify_incoming;
// plaintext is refused with verify_incoming, else served as before. A TLS connection without any
// client certificate may still reach a restricted listener (auto_encrypt's insecure path). All end up as HTTP/1.1
// keep-alive connections of one request listener. The TLS settings are read per connection, so
// a reload applies to new connections at once.
import type http from 'node:http';
import type { RequestListener } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { Logger } from '../log.ts';
import type { TlsConfigurator } from './tls-configurator.ts';
import { createHttp1Server, endConnections, hostPort, rawSocket, reloadTls } from '../http/index.ts';
import { NODE_HANDSHAKE_TIMEOUT_OFF } from '../http/listener.ts';

/** A TLS record's first byte (handshake content type). */
const TLS_HANDSHAKE = 0x16;
/** Consul's default limits.rpc_handshake_timeout. */
const HANDSHAKE_TIMEOUT_MS = 5_000;

/** Options of the front door. */
export interface RpcListenerOptions {
  /** Answers every request, over plaintext or TLS; or `server` takes the connections. */
  serve?: RequestListener;
  /** The HTTP/1.1 server connections go to (a listener shared with another service). */
  server?: http.Server;
  /**
   * The port also carries plaintext peers that cannot speak TLS (a managed store's etcd bootstrap
   * when the servers have no TLS material): verify_incoming then cannot refuse plaintext; client
   * certificates are still required over TLS.
   */
  plaintextPeers?: boolean;
  tls: Pick<TlsConfigurator, 'incomingRpc' | 'verifyIncomingRpc' | 'version'>;
  /**
   * Answers requests on TLS connections that present no client certificate while verify_incoming
   * requires one (Consul's insecure RPC, for auto_encrypt.allow_tls); absent: they are refused.
   */
  insecure?: RequestListener;
  /**
   * limits.rpc_handshake_timeout: milliseconds a connection has to send its first byte, and then
   * separately to finish its TLS handshake (default 5 s; 0: no limit). Not reloadable, as in Consul.
   */
  handshakeTimeoutMs?: number;
  /** Counts each connection accepted (Consul's rpc.accept_conn); absent: not counted. */
  acceptConn?: () => void;
  logger: Logger;
}

function hasPeerCertificate(s: TLSSocket): boolean {
  return Object.keys(s.getPeerCertificate() ?? {}).length > 0;
}

/** Accepts plaintext and TLS connections on one port and hands them to one HTTP/1.1 server. */
export class RpcListener {
  readonly #o: RpcListenerOptions;
  readonly #http: http.Server;
  readonly #insecure: http.Server | null;
  readonly #sockets = new Set<Socket>();
  /** `from=ip:port` of each connection, for logs written after its socket is gone. */
  readonly #peers = new WeakMap<Socket, string>();
  #net: net.Server | null = null;
  #tls: tls.Server | null = null;
  /** The TlsConfigurator version #tls was made from. */
  #tlsVersion = -1;
  #closed = false;

  constructor(o: RpcListenerOptions) {
    this.#o = o;
    this.#http = o.server ?? createHttp1Server(o.serve);
    this.#insecure = o.insecure ? createHttp1Server(o.insecure) : null;
  }

  /** Binds `host:port` (0: an ephemeral port). */
  listen(host: string, port: number): Promise<void> {
    const srv = net.createServer((sock) => this.accept(sock));
    this.#net = srv;
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.off('error', reject);
        srv.on('error', (err) => this.#o.logger.warn({ err }, 'internal RPC listener error'));
        resolve();
      });
    });
  }

  /** The bound `host:port`, or none before listen(). */
  addresses(): string[] {
    const a = this.#net?.address() as AddressInfo | null | undefined;
    if (!a) return [];
    return [hostPort(a)];
  }

  /** Takes over a connection accepted elsewhere (a listener shared with another service). */
  accept(sock: Socket): void {
    if (this.#closed) {
      sock.destroy();
      return;
    }
    this.#o.acceptConn?.();
    this.#sockets.add(sock);
    sock.once('close', () => this.#sockets.delete(sock));
    sock.on('error', () => undefined);
    // As node:http's own servers do (noDelay): without it a response written in more than one
    // write waits behind Nagle for the client's delayed ACK (up to 40 ms on Linux).
    sock.setNoDelay(true);
    const timeout = this.#o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    if (timeout > 0) sock.setTimeout(timeout, () => sock.destroy());
    sock.once('data', (chunk: Buffer) => {
      sock.pause();
      sock.unshift(chunk);
      if (timeout > 0) sock.setTimeout(0);
      this.#route(sock, chunk[0] === TLS_HANDSHAKE);
      process.nextTick(() => sock.resume());
    });
  }

  #route(sock: Socket, overTls: boolean): void {
    const conn = `from=${sock.remoteAddress}:${sock.remotePort}`;
    this.#peers.set(sock, conn);
    if (!overTls) {
      if (this.#o.tls.verifyIncomingRpc() && !this.#o.plaintextPeers) {
        this.#o.logger.warn({ conn }, 'Non-TLS connection attempted with VerifyIncoming set');
        sock.destroy();
        return;
      }
      this.#http.emit('connection', sock);
      return;
    }
    const server = this.#tlsServer();
    if (!server) {
      this.#o.logger.warn({ conn }, 'TLS connection attempted, server not configured for TLS');
      sock.destroy();
      return;
    }
    server.emit('connection', sock);
  }

  /** The TLS side with the current settings, null without an internal RPC key pair. */
  #tlsServer(): tls.Server | null {
    const { tls: t } = this.#o;
    if (this.#tls && this.#tlsVersion === t.version) return this.#tls;
    const opts = t.incomingRpc();
    this.#tlsVersion = t.version;
    if (!opts) return (this.#tls = null);
    if (this.#tls) {
      // A reload: new connections use the new key pair, CAs and client-certificate rule.
      reloadTls(this.#tls, opts, false);
      return this.#tls;
    }
    // Client certificates are checked here rather than by node:tls, to log why one was refused.
    // 0 is no limit (node would read a 0 as its 120 s default).
    const handshakeTimeout = (this.#o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS) || NODE_HANDSHAKE_TIMEOUT_OFF;
    const server = tls.createServer({ ...opts, rejectUnauthorized: false, handshakeTimeout });
    server.on('secureConnection', (s: TLSSocket) => {
      if (this.#o.tls.verifyIncomingRpc() && !s.authorized) {
        // No certificate at all (not a bad one): the auto_encrypt path, when the server offers it.
        if (this.#insecure && !hasPeerCertificate(s)) {
          this.#insecure.emit('connection', s);
          return;
        }
        this.#o.logger.warn({ conn: this.#peer(s), error: String(s.authorizationError) }, 'internal RPC client certificate refused');
        s.destroy();
        return;
      }
      this.#http.emit('connection', s);
    });
    server.on('tlsClientError', (err, s: TLSSocket) => {
      this.#o.logger.warn({ conn: this.#peer(s), error: err.message }, 'failed TLS handshake on the internal RPC port');
      // Node only reports a handshake timeout here and leaves the socket open.
      s.destroy();
    });
    return (this.#tls = server);
  }

  #peer(s: TLSSocket): string {
    const raw = rawSocket(s);
    return (raw && this.#peers.get(raw)) ?? `from=${s.remoteAddress}:${s.remotePort}`;
  }

  /**
   * Stops accepting (new connections are refused) and closes every connection, those accept()
   * took over from a shared listener included (its port stays its owner's to close).
   */
  async close(): Promise<void> {
    this.#closed = true;
    const srv = this.#net;
    this.#net = null;
    const closed = srv ? new Promise<void>((resolve) => srv.close(() => resolve())) : Promise.resolve();
    endConnections(this.#http, 0);
    if (this.#insecure) endConnections(this.#insecure, 0);
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}
