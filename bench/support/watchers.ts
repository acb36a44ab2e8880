// Load-generator child of bench/fanout.ts (started with fork, driven over IPC): opens one
// long-poll GET per watcher, each on its own HTTP/1.1 connection (by default a raw `net` socket
// that writes the request and frames the response itself, by Content-Length or chunked; with
// `client: 'node'` through node:http's client, which costs a request object, an IncomingMessage
// and agent bookkeeping per watcher and several times the CPU per answer), or with `h2` as streams of
// HTTP/2-over-TLS connections (node:http2, at most `streams` per connection, watchers dealt
// round-robin over the connections so each carries a mix, as a Go client multiplexes); records
// when each response has fully arrived (CLOCK_MONOTONIC ms, comparable across processes), and
// reports per group. Several of these share the watchers so no process needs more open files
// than its limit allows.
//
// Messages in: {type:'open', host, port, localAddresses, watchers:[{path, group}], notify:{group:n},
//               h2?: {ca, streams}, client?: 'raw'|'node'}
//              {type:'report'}  {type:'close'}
// Messages out: {type:'opened', n, errors}  {type:'group-done', group}  {type:'report', ...Report}
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { monoMs } from './proc.ts';
import { RawResponse } from './raw-http.ts';

/** One watcher: the request path (with index and wait) and the group it is counted in. */
export interface WatcherSpec {
  path: string;
  group: string;
}

/** What a generator reports: arrival times per group (ms, monotonic), statuses and errors. */
export interface Report {
  arrivals: Record<string, number[]>;
  statuses: Record<string, number>;
  errors: string[];
}

interface OpenMsg {
  type: 'open';
  host: string;
  port: number;
  localAddresses: string[];
  watchers: WatcherSpec[];
  notify: Record<string, number>;
  /** HTTP/2 over TLS: the CA (PEM) that issued the server's certificate, streams per connection. */
  h2?: { ca: string; streams: number };
  /** HTTP/1.1 client: raw sockets (default) or node:http. */
  client?: 'raw' | 'node';
}

const report: Report = { arrivals: {}, statuses: {}, errors: [] };
let agent: http.Agent | null = null;
const sessions: http2.ClientHttp2Session[] = [];
const sockets: net.Socket[] = [];
const send = (m: object): void => { process.send!(m); };

function arrived(group: string, status: number | undefined, left: Record<string, number>): void {
  const t = monoMs();
  (report.arrivals[group] ??= []).push(t);
  const k = `${group} ${status}`;
  report.statuses[k] = (report.statuses[k] ?? 0) + 1;
  if (left[group] !== undefined && --left[group] === 0) send({ type: 'group-done', group });
}

function failed(what: string, e: Error): void {
  if (report.errors.length < 20) report.errors.push(`${what}: ${e.message}`);
}

/**
 * HTTP/2: ceil(n / streams) TLS connections, 32 handshakes at a time; a batch sends its streams
 * once all its handshakes are done, so that this process is not busy sending requests while the
 * server waits for its handshake records (the server cuts a handshake silent for its deadline).
 */
async function openH2(msg: OpenMsg, h2: { ca: string; streams: number }): Promise<void> {
  const left = { ...msg.notify };
  const n = Math.ceil(msg.watchers.length / h2.streams);
  const one = (c: number): Promise<http2.ClientHttp2Session | null> => new Promise((done) => {
    // tls.connect passes localAddress and noDelay (TCP_NODELAY, as Go's and node:http's clients
    // set) on to the socket; the session options type omits them.
    const tlsOpts = { ca: h2.ca, noDelay: true, localAddress: msg.localAddresses[c % msg.localAddresses.length] } as http2.SecureClientSessionOptions;
    const session = http2.connect(`https://${msg.host}:${msg.port}`, tlsOpts);
    sessions.push(session);
    session.on('error', (e) => { failed(`connection ${c}`, e); done(null); });
    session.once('connect', () => done(session));
  });
  const send = (c: number, session: http2.ClientHttp2Session): void => {
    for (let i = c; i < msg.watchers.length; i += n) {
      const w = msg.watchers[i];
      const stream = session.request({ ':path': w.path }, { endStream: true });
      let status: number | undefined;
      stream.once('response', (h) => { status = Number(h[':status']); });
      stream.on('error', (e) => failed(w.path, e));
      stream.on('end', () => arrived(w.group, status, left));
      stream.resume();
    }
  };
  for (let c = 0; c < n; c += 32) {
    const batch = await Promise.all(Array.from({ length: Math.min(32, n - c) }, (_, k) => one(c + k)));
    batch.forEach((session, k) => { if (session && !session.closed) send(c + k, session); });
  }
}

/** HTTP/1.1 on raw sockets: connect, write the GET, time the response's last byte; the connection stays open (kept alive, as a Go client keeps it for its next blocking query). */
function openRaw(msg: OpenMsg): Promise<void> {
  const left = { ...msg.notify };
  const hostHeader = `\r\nHost: ${msg.host}:${msg.port}\r\n\r\n`;
  const BATCH = 250;
  const one = (w: WatcherSpec, localAddress: string): Promise<void> => new Promise((connected) => {
    const res = new RawResponse();
    const sock = net.connect({ host: msg.host, port: msg.port, localAddress, noDelay: true }, () => {
      sock.write(`GET ${w.path} HTTP/1.1${hostHeader}`);
      connected();
    });
    sockets.push(sock);
    let done = false;
    sock.on('data', (c: Buffer) => {
      if (done) return;
      const status = res.feed(c);
      if (status === 0) return;
      done = true;
      if (status < 0) failed(w.path, new Error('response without Content-Length or chunked framing'));
      else arrived(w.group, status, left);
    });
    sock.on('error', (e) => { failed(w.path, e); connected(); });
  });
  return (async () => {
    for (let i = 0; i < msg.watchers.length; i += BATCH) {
      await Promise.all(msg.watchers.slice(i, i + BATCH).map((w, k) => one(w, msg.localAddresses[(i + k) % msg.localAddresses.length])));
    }
  })();
}

function open(msg: OpenMsg): Promise<void> {
  if (msg.h2) return openH2(msg, msg.h2);
  if (msg.client !== 'node') return openRaw(msg);
  agent = new http.Agent({ keepAlive: true, maxSockets: msg.watchers.length, maxFreeSockets: 0 });
  const left = { ...msg.notify };
  const BATCH = 250;
  let i = 0;
  const one = (w: WatcherSpec, localAddress: string): Promise<void> => new Promise((connected) => {
    const req = http.request({ agent: agent!, host: msg.host, port: msg.port, path: w.path, localAddress }, (res) => {
      res.resume();
      res.on('end', () => arrived(w.group, res.statusCode, left));
    });
    req.on('error', (e) => { failed(w.path, e); connected(); });
    req.on('socket', (s) => { if (s.connecting) s.once('connect', () => connected()); else connected(); });
    req.end();
  });
  return (async () => {
    while (i < msg.watchers.length) {
      const batch = msg.watchers.slice(i, i + BATCH).map((w, k) => one(w, msg.localAddresses[(i + k) % msg.localAddresses.length]));
      i += BATCH;
      await Promise.all(batch);
    }
  })();
}

process.on('message', (m: { type: string }) => {
  if (m.type === 'open') {
    void open(m as OpenMsg).then(() => send({ type: 'opened', n: (m as OpenMsg).watchers.length, errors: report.errors.length }));
  } else if (m.type === 'report') {
    // HTTP/2 sessions that ended without an error event would otherwise leave no trace.
    const ended = sessions.filter((x) => x.closed || x.destroyed).length;
    if (ended) report.errors.push(`${ended} of ${sessions.length} HTTP/2 sessions closed`);
    send({ type: 'report', ...report });
  } else if (m.type === 'close') {
    agent?.destroy();
    for (const s of sessions) s.destroy();
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
