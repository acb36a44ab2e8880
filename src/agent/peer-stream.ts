// The peer stream: Proconsul's stand-in for Consul's gRPC PeerStreamService, carried over the
// servers' HTTP(S) listener so two clusters need nothing but their HTTP ports. The protocol:
//
//  1. Exchange. The dialer POSTs /v1/internal/peering/exchange {"PeerID", "EstablishmentSecret"}
//     (the token's values) and gets {"StreamSecret"}; the establishment secret is then spent.
//     403: wrong or spent secret; 404: no such peering.
//  2. Stream. The dialer GETs /v1/internal/peering/stream with the headers X-Proconsul-Peer-ID
//     (the acceptor's peering ID), X-Proconsul-Stream-Secret and X-Proconsul-Peer-Remote (JSON
//     {"Partition","Datacenter"} of the dialer). The acceptor promotes a pending secret to active,
//     answers 200 and keeps the response open, writing one JSON message per line:
//       {"Type":"exports","Services":{"<service>":[CheckServiceNode, …]}}  the full set it exports
//                                                                         to this peer, on change
//       {"Type":"heartbeat"}                                             every heartbeat interval
//       {"Type":"terminated"}                                            its end was deleted
//  3. Push. The dialer sends the same kinds of message the other way, one per
//     POST /v1/internal/peering/push (same headers, the message as body); 410 with
//     {"Type":"terminated"} when the acceptor's end is gone.
//
// The dialing runs on the leader (PeeringLeader, which also finishes deletions); the acceptor's
// handlers run on whichever server the dialer reaches. Both ends record what they see in the
// stream tracker, from which reads report ACTIVE / FAILING and StreamStatus.
import * as http from 'node:http';
import * as https from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { InternalError, PermissionDeniedError } from '../errors.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { PEERINGS_TABLE, type StoredPeering } from '../state/index.ts';
import type { EndpointDeps } from '../endpoint/deps.ts';
import { peeringActive, shouldDial, type PeeringEndpoint } from '../endpoint/peering.ts';
import { exportsForPeer, storeImports, type PeerExports } from '../endpoint/peering-imports.ts';
import type { PeeringRecord, PeeringRemoteInfo } from '../api/peering.ts';
import type { HttpRequest } from '../http/request.ts';
import type { HttpResult } from '../http/router.ts';
import { parseJSON } from '../http/body.ts';
import type { LeaderLoop } from '../leader/loops.ts';

const EXCHANGE_PATH = '/v1/internal/peering/exchange';
const STREAM_PATH = '/v1/internal/peering/stream';
const PUSH_PATH = '/v1/internal/peering/push';
const H_PEER = 'x-proconsul-peer-id';
const H_SECRET = 'x-proconsul-stream-secret';
const H_REMOTE = 'x-proconsul-peer-remote';

/** One message of the stream. */
export type PeerMessage = { Type: 'exports'; Services: PeerExports } | { Type: 'heartbeat' } | { Type: 'terminated' };

/** Dependencies of both ends. */
export interface PeerStreamDeps {
  epDeps: EndpointDeps;
  peering: PeeringEndpoint;
  clock: Clock;
  logger: Logger;
  /** This cluster's whereabouts, sent to acceptors. */
  remote: PeeringRemoteInfo;
  /** Heartbeat interval (Consul: 15 s). */
  heartbeatMs?: number;
  /** Silence after which a dialer drops the stream and redials (Consul: 2 min). */
  heartbeatTimeoutMs?: number;
  /** Delay between redials. */
  retryMs?: number;
}

/** Applies a message from the peer of `p` (either end). */
async function receive(d: PeerStreamDeps, p: StoredPeering, msg: PeerMessage): Promise<void> {
  d.peering.tracker.received(p.ID, msg.Type === 'heartbeat');
  if (msg.Type === 'exports') {
    await storeImports(d.epDeps, p.Name, msg.Services ?? {});
    d.peering.tracker.setImported(p.ID, Object.keys(msg.Services ?? {}));
  } else if (msg.Type === 'terminated') {
    await d.peering.terminate(p.ID);
  }
}

/**
 * Calls `send` with what this cluster exports to `p`'s peer whenever it changes (and once at
 * start), until `signal` aborts or the peering stops being active (then once with null).
 */
async function followExports(d: PeerStreamDeps, id: string, signal: AbortSignal, send: (e: PeerExports | null) => Promise<void> | void): Promise<void> {
  let last = '';
  while (!signal.aborted) {
    const ws = d.epDeps.replica.notifier.watchSet();
    ws.addKey(PEERINGS_TABLE, id);
    const cur = d.epDeps.replica.peerings.get(id);
    if (!cur || !peeringActive(cur)) {
      await send(null);
      return;
    }
    const exports = exportsForPeer(d.epDeps, cur.Name, ws);
    const json = JSON.stringify(exports);
    if (json !== last) {
      last = json;
      d.peering.tracker.setExported(id, Object.keys(exports));
      await send(exports);
      // A watch set hears only changes after its wait() begins: what changed while sending is
      // seen by computing again (unchanged answers then wait with no gap).
      continue;
    }
    await ws.wait(600_000, signal);
  }
}

/** A repeating timer on the injected clock. */
function every(clock: Clock, ms: number, fn: () => void): { cancel(): void } {
  let h: TimerHandle;
  const arm = () => { h = clock.setTimer(ms, () => { fn(); arm(); }); };
  arm();
  return { cancel: () => h.cancel() };
}

// ---- acceptor side ---------------------------------------------------------------------------

/** The acceptor's handlers of the three internal routes. */
export function peerStreamHandlers(d: PeerStreamDeps) {
  const credentials = (req: HttpRequest): { id: string; secret: string } => ({
    id: String(req.headers[H_PEER] ?? ''), secret: String(req.headers[H_SECRET] ?? ''),
  });
  /** The peering a push names, its secret checked against the active one. */
  const pushed = (req: HttpRequest): StoredPeering | undefined => {
    const { id, secret } = credentials(req);
    const p = d.epDeps.replica.peerings.get(id);
    const s = d.epDeps.replica.peeringSecrets.get(id);
    if (p && !peeringActive(p)) return undefined;
    if (!p || !s || (secret !== s.ActiveStream && secret !== s.PendingStream)) throw new PermissionDeniedError('invalid peering stream secret');
    return p;
  };
  return {
    async exchange(req: HttpRequest): Promise<HttpResult> {
      const body = (parseJSON(await req.body()) ?? {}) as { PeerID?: string; EstablishmentSecret?: string };
      const StreamSecret = await d.peering.exchangeSecret(String(body.PeerID ?? ''), String(body.EstablishmentSecret ?? ''));
      return { body: { StreamSecret } };
    },
    async stream(req: HttpRequest): Promise<HttpResult> {
      const { id, secret } = credentials(req);
      let remote: PeeringRemoteInfo = { Partition: '', Datacenter: '' };
      try {
        remote = JSON.parse(String(req.headers[H_REMOTE] ?? '{}')) as PeeringRemoteInfo;
      } catch { /* keep empty */ }
      const p = await d.peering.openStream(id, secret, { Partition: String(remote.Partition ?? ''), Datacenter: String(remote.Datacenter ?? '') });
      if (!peeringActive(p)) return { status: 410, body: { Type: 'terminated' } };
      return { contentType: 'application/x-ndjson', stream: (write, signal) => serveStream(d, p, write, signal) };
    },
    async push(req: HttpRequest): Promise<HttpResult> {
      const p = pushed(req);
      if (!p) return { status: 410, body: { Type: 'terminated' } };
      await receive(d, p, parseJSON(await req.body(64 << 20)) as PeerMessage);
      return { body: {} };
    },
  };
}

/** Writes the acceptor's side of an open stream until the dialer leaves or the peering ends. */
async function serveStream(d: PeerStreamDeps, p: StoredPeering, write: (chunk: string) => void, signal: AbortSignal): Promise<void> {
  const tracker = d.peering.tracker;
  const send = (m: PeerMessage) => {
    write(`${JSON.stringify(m)}\n`);
    tracker.sent(p.ID);
  };
  // The stream also ends when the dialer's pushes (heartbeats included) stop arriving: a dialer
  // gone without closing its connection is noticed as Consul's incoming heartbeat timeout does.
  const ended = new AbortController();
  const onLeave = () => ended.abort();
  signal.addEventListener('abort', onLeave, { once: true });
  const timeout = d.heartbeatTimeoutMs ?? 120_000;
  let lastHeard = d.clock.now();
  tracker.connected(p.ID);
  send({ Type: 'heartbeat' });
  const beat = every(d.clock, d.heartbeatMs ?? 15_000, () => {
    lastHeard = Math.max(lastHeard, tracker.get(p.ID)?.lastReceive ?? 0);
    if (d.clock.now() - lastHeard > timeout) ended.abort();
    else send({ Type: 'heartbeat' });
  });
  try {
    await followExports(d, p.ID, ended.signal, (e) => send(e ? { Type: 'exports', Services: e } : { Type: 'terminated' }));
  } finally {
    beat.cancel();
    signal.removeEventListener('abort', onLeave);
    const why = signal.aborted ? 'the peer stream was closed by the dialer' : ended.signal.aborted ? 'heartbeat timeout' : '';
    if (d.epDeps.replica.peerings.get(p.ID)) tracker.disconnected(p.ID, why);
  }
}

// ---- dialer side -----------------------------------------------------------------------------

/** `host:port` split for node:http (IPv6 in brackets). */
function hostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(addr.slice(i + 1)) };
}

/** The addresses a dialer tries, the token's manual ones first. */
function dialAddresses(p: PeeringRecord): string[] {
  return p.ManualServerAddresses?.length ? p.ManualServerAddresses : p.PeerServerAddresses ?? [];
}

/** Checks an acceptor's certificate against the dialed host, else `server.<its datacenter>.consul`. */
function acceptorIdentity(p: PeeringRecord, host: string, cert: PeerCertificate): Error | undefined {
  const byHost = checkServerIdentity(host, cert);
  return byHost && p.Remote.Datacenter ? checkServerIdentity(`server.${p.Remote.Datacenter}.consul`, cert) : byHost;
}

/** One HTTP(S) request to a peer server; resolves with the response (body unread). */
function peerRequest(
  p: PeeringRecord, addr: string, method: string, path: string, headers: Record<string, string>, body: string | null, signal?: AbortSignal,
): Promise<http.IncomingMessage> {
  const { host, port } = hostPort(addr);
  const tls = (p.PeerCAPems?.length ?? 0) > 0;
  const opts: https.RequestOptions = {
    host, port, method, path, signal, agent: false,
    headers: { ...headers, ...(body !== null ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}) },
    // The acceptor's HTTPS certificate is its agent's, not one made for peering: it must be valid
    // for the address dialed or for Consul's server name of the acceptor's datacenter.
    ...(tls ? { ca: p.PeerCAPems, checkServerIdentity: (h: string, cert: PeerCertificate) => acceptorIdentity(p, h, cert) } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(opts, resolve);
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/**
 * The dialer's secret exchange (the Establish call's second step): each address in turn for up
 * to 3 s; a refusal means the token is spent or stale.
 */
export async function exchangeSecret(p: PeeringRecord, establishmentSecret: string, clock: Clock): Promise<string> {
  const body = JSON.stringify({ PeerID: p.PeerID, EstablishmentSecret: establishmentSecret });
  const errors: string[] = [];
  const deadline = clock.now() + 3000;
  const addrs = dialAddresses(p);
  for (let i = 0; i === 0 || clock.now() < deadline; i++) {
    const addr = addrs[i % addrs.length];
    try {
      const res = await peerRequest(p, addr, 'POST', EXCHANGE_PATH, {}, body, AbortSignal.timeout(2000));
      const text = await readAll(res);
      if (res.statusCode === 200) return String((JSON.parse(text) as { StreamSecret?: string }).StreamSecret ?? '');
      if (res.statusCode === 403) throw new PermissionDeniedError(`a new peering token must be generated: ${text}`);
      errors.push(`failed to exchange peering secret through address "${addr}": ${text}`);
    } catch (err) {
      if (err instanceof PermissionDeniedError) throw err;
      errors.push(`failed to exchange peering secret through address "${addr}": ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new InternalError(errors.join('; '));
}

/** One dialer's connection to its acceptor, redialed until stopped. */
class DialedPeer {
  readonly #d: PeerStreamDeps;
  readonly id: string;
  readonly secret: string;
  readonly #stop = new AbortController();
  #next = 0;

  constructor(d: PeerStreamDeps, id: string, secret: string) {
    this.#d = d;
    this.id = id;
    this.secret = secret;
    void this.#run();
  }

  stop(): void {
    this.#stop.abort();
  }

  #headers(): Record<string, string> {
    return { 'X-Proconsul-Peer-ID': this.#peering()?.PeerID ?? '', 'X-Proconsul-Stream-Secret': this.secret, 'X-Proconsul-Peer-Remote': JSON.stringify(this.#d.remote) };
  }

  #peering(): StoredPeering | undefined {
    return this.#d.epDeps.replica.peerings.get(this.id);
  }

  /** Tells the acceptor this end is deleted (best effort). */
  async terminate(): Promise<void> {
    const p = this.#peering();
    if (!p) return;
    for (const addr of dialAddresses(p)) {
      try {
        const res = await peerRequest(p, addr, 'POST', PUSH_PATH, this.#headers(), JSON.stringify({ Type: 'terminated' }), AbortSignal.timeout(2000));
        await readAll(res);
        return;
      } catch { /* the next address */ }
    }
  }

  async #run(): Promise<void> {
    const log = this.#d.logger;
    while (!this.#stop.signal.aborted) {
      const p = this.#peering();
      if (!p || !peeringActive(p)) return;
      const addrs = dialAddresses(p);
      const addr = addrs[this.#next++ % addrs.length];
      try {
        await this.#session(p, addr);
      } catch (err) {
        if (this.#stop.signal.aborted) return;
        log.debug({ err, peer: p.Name, addr }, 'peering stream failed');
        this.#d.peering.tracker.disconnected(this.id, (err as Error).message || 'stream ended');
      }
      await new Promise<void>((r) => {
        const h = this.#d.clock.setTimer(this.#d.retryMs ?? 2000, r);
        this.#stop.signal.addEventListener('abort', () => { h.cancel(); r(); }, { once: true });
      });
    }
  }

  /** One stream: read the acceptor's messages, push ours, until it ends, goes silent or is stopped. */
  async #session(p: StoredPeering, addr: string): Promise<void> {
    const d = this.#d;
    const session = new AbortController();
    const onStop = () => session.abort();
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    let silence = null as TimerHandle | null;
    const quiet = () => {
      silence?.cancel();
      silence = d.clock.setTimer(d.heartbeatTimeoutMs ?? 120_000, () => session.abort(new Error('heartbeat timeout')));
    };
    try {
      const res = await peerRequest(p, addr, 'GET', STREAM_PATH, this.#headers(), null, session.signal);
      if (res.statusCode === 410) {
        await readAll(res);
        await d.peering.terminate(p.ID);
        return;
      }
      if (res.statusCode !== 200) throw new Error(`peer answered ${res.statusCode}: ${await readAll(res)}`);
      d.peering.tracker.connected(p.ID);
      quiet();
      const pushLoop = this.#pushes(p, addr, session);
      let buf = '';
      for await (const chunk of res) {
        quiet();
        buf += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line) await receive(d, p, JSON.parse(line) as PeerMessage);
        }
      }
      session.abort();
      await pushLoop;
      throw new Error('the peer stream ended');
    } finally {
      silence?.cancel();
      session.abort();
      this.#stop.signal.removeEventListener('abort', onStop);
    }
  }

  /** Pushes our exports (on change) and heartbeats to the acceptor while the session lasts; a failed push ends the session. */
  async #pushes(p: StoredPeering, addr: string, session: AbortController): Promise<void> {
    const d = this.#d;
    const signal = session.signal;
    const push = async (m: PeerMessage) => {
      if (signal.aborted) return;
      const res = await peerRequest(p, addr, 'POST', PUSH_PATH, this.#headers(), JSON.stringify(m), signal);
      const text = await readAll(res);
      if (res.statusCode === 410) await d.peering.terminate(p.ID);
      else if (res.statusCode !== 200) throw new Error(`peer refused a push (${res.statusCode}): ${text}`);
      d.peering.tracker.sent(p.ID);
    };
    const beat = every(d.clock, d.heartbeatMs ?? 15_000, () => void push({ Type: 'heartbeat' }).catch(() => {}));
    try {
      await followExports(d, p.ID, signal, (e) => (e ? push({ Type: 'exports', Services: e }) : undefined));
    } catch (err) {
      if (!signal.aborted) {
        d.logger.debug({ err, peer: p.Name }, 'peering push failed');
        session.abort(err);
      }
    } finally {
      beat.cancel();
    }
  }
}

// ---- leader duty -----------------------------------------------------------------------------

/**
 * The leader's peering duty: keeps one dialed stream per dialing peering that holds a stream
 * secret, and finishes deletions (the peer told, imports and the peering removed).
 */
export class PeeringLeader implements LeaderLoop {
  readonly name = 'peering';
  readonly #d: PeerStreamDeps;
  readonly #dialed = new Map<string, DialedPeer>();
  readonly #deleting = new Set<string>();
  #stop: AbortController | null = null;

  constructor(d: PeerStreamDeps) {
    this.#d = d;
  }

  async start(): Promise<void> {
    const stop = new AbortController();
    this.#stop = stop;
    void (async () => {
      while (!stop.signal.aborted) {
        const ws = this.#d.epDeps.replica.notifier.watchSet().addTable(PEERINGS_TABLE).addTable('peering-secrets');
        this.#reconcile();
        await ws.wait(600_000, stop.signal);
      }
    })();
  }

  stop(): void {
    this.#stop?.abort();
    this.#stop = null;
    for (const c of this.#dialed.values()) c.stop();
    this.#dialed.clear();
  }

  #reconcile(): void {
    const { peerings, peeringSecrets } = this.#d.epDeps.replica;
    const wanted = new Set<string>();
    for (const p of peerings.all()) {
      if (p.DeletedAt) {
        this.#finishDelete(p);
        continue;
      }
      const secret = peeringSecrets.get(p.ID)?.ActiveStream;
      if (!peeringActive(p) || !shouldDial(p) || !secret) continue;
      wanted.add(p.ID);
      const cur = this.#dialed.get(p.ID);
      if (cur && cur.secret === secret) continue;
      cur?.stop();
      this.#dialed.set(p.ID, new DialedPeer(this.#d, p.ID, secret));
    }
    for (const [id, c] of this.#dialed) {
      if (wanted.has(id) || this.#deleting.has(id)) continue;
      c.stop();
      this.#dialed.delete(id);
    }
  }

  #finishDelete(p: StoredPeering): void {
    if (this.#deleting.has(p.ID)) return;
    this.#deleting.add(p.ID);
    const conn = this.#dialed.get(p.ID);
    void (async () => {
      try {
        if (conn) {
          conn.stop();
          await conn.terminate();
        }
        await this.#d.peering.remove(p.ID);
      } catch (err) {
        this.#d.logger.warn({ err, peer: p.Name }, 'peering deletion not finished');
      } finally {
        this.#dialed.delete(p.ID);
        this.#deleting.delete(p.ID);
      }
    })();
  }
}
