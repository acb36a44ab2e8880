// The peer stream: Proconsul's stand-in for Consul's gRPC PeerStreamService, carried over the
// servers' HTTP(S) listener so two clusters need nothing but their HTTP ports. The protocol:
//
//  1. Exchange. The dialer POSTs /v1/internal/peering/exchange {"PeerID", "EstablishmentSecret"}
//     (the token's values) and gets {"StreamSecret"}; the establishment secret is then spent.
//     403 "invalid peering establishment secret": unknown peering, wrong or spent secret.
//  2. Stream. The dialer GETs /v1/internal/peering/stream with the headers X-Proconsul-Peer-ID
//     (the acceptor's peering ID), X-Proconsul-Stream-Secret and X-Proconsul-Peer-Remote (JSON
//     {"Partition","Datacenter"} of the dialer). The acceptor promotes a pending secret to active,
//     answers 200 and keeps the response open, writing one JSON message per line:
//       {"Type":"exports","Services":{"<service>":[CheckServiceNode, …]}}  the full set it exports
//                                                                         to this peer, on change;
//        with "Namespaces":{"<ns>":{"<service>":[…]}} for services of other namespaces than
//        default (ignored by older versions), imported into the namespace of that name

//       {"Type":"heartbeat"}                                             every heartbeat interval
//       {"Type":"terminated"}                                            its end was deleted
//     403 for a wrong secret (checked in constant time on every request), 400 when the peering is
//     the dialing end. A reader that falls behind is not queued every change: the acceptor waits
//     for the connection to drain, then sends the exports as they are by then.
//  3. Push. The dialer sends the same kinds of message the other way, one per
//     POST /v1/internal/peering/push (same headers, the message as body); 410 with
//     {"Type":"terminated"} when the acceptor's end is gone, 400 "malformed peering message: …"
//     for a message of the wrong shape (either end checks what it receives before storing it).
//
// This file holds the protocol and the acceptor's side. The dialer's side runs on the leader
// (peer-dialer.ts, which also finishes deletions); the acceptor's handlers run on whichever
// server the dialer reaches. Both ends record what they see in the stream tracker, from which
// reads report ACTIVE / FAILING and StreamStatus; the holding server publishes it to the store
// (endpoint/peering-status.ts) so the other servers of its datacenter answer the same.
import { createRequire } from 'node:module';
import { BadRequestError, PermissionDeniedError } from '../errors.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { PEERINGS_TABLE, type StoredPeering } from '../state/index.ts';
import type { EndpointDeps } from '../endpoint/deps.ts';
import { WRONG_END, peeringActive, sameSecret, shouldDial, type PeeringEndpoint } from '../endpoint/peering.ts';
import type { PeerExports, PeerExportSet } from '../endpoint/peering-imports.ts';
import type { PeeringRemoteInfo } from '../api/peering.ts';
import type { HttpRequest } from '../http/request.ts';
import type { HttpResult } from '../http/router.ts';
import { parseJSON } from '../http/body.ts';

/** The protocol's routes. */
export const EXCHANGE_PATH = '/v1/internal/peering/exchange';
export const STREAM_PATH = '/v1/internal/peering/stream';
export const PUSH_PATH = '/v1/internal/peering/push';
const require = createRequire(import.meta.url);
/** The exports and imports of peerings (endpoint/peering-imports.ts), loaded by a stream's first message, not at start (issue #9). */
const peerImports = () => require('../endpoint/peering-imports.ts') as typeof import('../endpoint/peering-imports.ts');

const H_PEER = 'x-proconsul-peer-id';
const H_SECRET = 'x-proconsul-stream-secret';
const H_REMOTE = 'x-proconsul-peer-remote';

/** One message of the stream. */
export type PeerMessage = ({ Type: 'exports' } & PeerExportSet) | { Type: 'heartbeat' } | { Type: 'terminated' };

/** The most a stream line or push body may hold (a large export set still fits). */
export const MAX_MESSAGE_BYTES = 64 << 20;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStringList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Why an exported instance is unusable, or '' (what the `?peer=` reads, DNS and queries rely on). */
function instanceFault(n: unknown): string {
  if (!isObject(n) || !isObject(n.Node) || !isObject(n.Service)) return 'an instance needs Node and Service objects';
  if (typeof n.Node.Node !== 'string' || typeof n.Node.Address !== 'string') return 'Node.Node and Node.Address must be strings';
  const svc = n.Service;
  if (typeof svc.Service !== 'string' || typeof svc.ID !== 'string') return 'Service.Service and Service.ID must be strings';
  if (svc.Tags != null && !isStringList(svc.Tags)) return 'Service.Tags must be a list of strings';
  if (svc.Port != null && typeof svc.Port !== 'number') return 'Service.Port must be a number';
  if (svc.Address != null && typeof svc.Address !== 'string') return 'Service.Address must be a string';
  if (n.Checks != null && !(Array.isArray(n.Checks) && n.Checks.every((c) => isObject(c) && typeof c.CheckID === 'string' && typeof c.Status === 'string'))) {
    return 'Checks must be objects with CheckID and Status strings';
  }
  return '';
}

/**
 * Checks a message received from a peer (either end) before anything acts on it: a peer holding
 * the secret can still be buggy or hostile, and what it sends is stored and served.
 */
export function peerMessage(raw: unknown): PeerMessage {
  const bad = (why: string): never => {
    throw new BadRequestError(`malformed peering message: ${why}`);
  };
  if (!isObject(raw)) return bad('not a JSON object');
  if (raw.Type === 'heartbeat' || raw.Type === 'terminated') return { Type: raw.Type };
  if (raw.Type !== 'exports') return bad(`unknown Type ${JSON.stringify(raw.Type ?? null)}`);
  if (!isObject(raw.Services)) return bad('Services must be an object');
  const services = (set: Record<string, unknown>, ns: string): void => {
    for (const [name, nodes] of Object.entries(set)) {
      const what = ns ? `service ${JSON.stringify(`${ns}/${name}`)}` : `service ${JSON.stringify(name)}`;
      if (!Array.isArray(nodes)) return bad(`${what}: instances must be a list`);
      for (const n of nodes) {
        const why = instanceFault(n);
        if (why) return bad(`${what}: ${why}`);
      }
    }
  };
  services(raw.Services, '');
  if (raw.Namespaces !== undefined) {
    if (!isObject(raw.Namespaces)) return bad('Namespaces must be an object');
    for (const [ns, set] of Object.entries(raw.Namespaces)) {
      if (!isObject(set)) return bad(`namespace ${JSON.stringify(ns)}: services must be an object`);
      services(set, ns);
    }
  }
  return {
    Type: 'exports', Services: raw.Services as PeerExports,
    ...(raw.Namespaces !== undefined ? { Namespaces: raw.Namespaces as Record<string, PeerExports> } : {}),
  };
}

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
  /** How long a dialer waits for the acceptor to answer a stream request before trying the next address. */
  streamOpenTimeoutMs?: number;
  /** Delay between redials. */
  retryMs?: number;
}

/** Applies a message from the peer of `p` (either end). */
export async function receive(d: PeerStreamDeps, p: StoredPeering, msg: PeerMessage): Promise<void> {
  d.peering.tracker.received(p.ID, msg.Type === 'heartbeat');
  if (msg.Type === 'exports') {
    const { exportedNames, storeImports } = peerImports();
    await storeImports(d.epDeps, p, msg);
    d.peering.tracker.setImported(p.ID, exportedNames(msg));
  } else if (msg.Type === 'terminated') {
    await d.peering.terminate(p.ID);
  }
}

/**
 * Calls `send` with what this cluster exports to `p`'s peer whenever it changes (and once at
 * start), until `signal` aborts or the peering stops being active (then once with null). A send
 * answering false did not send: the exports are computed and offered again.
 */
export async function followExports(
  d: PeerStreamDeps, id: string, signal: AbortSignal, send: (e: PeerExportSet | null) => Promise<void | boolean> | void | boolean,
): Promise<void> {
  let last = '';
  while (!signal.aborted) {
    const ws = d.epDeps.replica.notifier.watchSet();
    ws.addKey(PEERINGS_TABLE, id);
    const cur = d.epDeps.replica.peerings.get(id);
    if (!cur || !peeringActive(cur)) {
      await send(null);
      return;
    }
    const { exportedNames, exportsForPeer } = peerImports();
    const exports = exportsForPeer(d.epDeps, cur, ws);
    const json = JSON.stringify(exports);
    if (json !== last) {
      last = json;
      d.peering.tracker.setExported(id, exportedNames(exports));
      if ((await send(exports)) === false) last = '';
      // A watch set hears only changes after its wait() begins: what changed while sending is
      // seen by computing again (unchanged answers then wait with no gap).
      continue;
    }
    await ws.wait(600_000, signal);
  }
}

/** A repeating timer on the injected clock. */
export function every(clock: Clock, ms: number, fn: () => void): { cancel(): void } {
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
    if (!p || !s || !(sameSecret(s.ActiveStream, secret) || sameSecret(s.PendingStream, secret))) throw new PermissionDeniedError('invalid peering stream secret');
    if (shouldDial(p)) throw new BadRequestError(WRONG_END);
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
      let remote: unknown;
      try {
        remote = JSON.parse(String(req.headers[H_REMOTE] ?? '{}'));
      } catch { /* treated as empty */ }
      const r = isObject(remote) ? remote : {};
      const p = await d.peering.openStream(id, secret, { Partition: String(r.Partition ?? ''), Datacenter: String(r.Datacenter ?? '') });
      if (!peeringActive(p)) return { status: 410, body: { Type: 'terminated' } };
      return { contentType: 'application/x-ndjson', stream: (write, signal, drained) => serveStream(d, p, write, signal, drained) };
    },
    async push(req: HttpRequest): Promise<HttpResult> {
      d.peering.checkEnabled();
      const p = pushed(req);
      if (!p) return { status: 410, body: { Type: 'terminated' } };
      await receive(d, p, peerMessage(parseJSON(await req.body(MAX_MESSAGE_BYTES))));
      return { body: {} };
    },
  };
}

/** Resolves when `drained` does or `signal` aborts, whichever is first (its listener removed). */
function drainedOrAborted(drained: () => Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    drained().then(done, done);
  });
}

/**
 * Writes the acceptor's side of an open stream until the dialer leaves or the peering ends. A
 * dialer that stops reading is not queued every change: while the connection's buffer is full
 * nothing more is written, and once it drains the exports are computed afresh (they are a full
 * set each time, so the latest is all the dialer needs).
 */
async function serveStream(
  d: PeerStreamDeps, p: StoredPeering, write: (chunk: string) => unknown, signal: AbortSignal, drained?: () => Promise<void>,
): Promise<void> {
  const tracker = d.peering.tracker;
  let full = false;
  const send = (m: PeerMessage) => {
    if (write(`${JSON.stringify(m)}\n`) === false && drained) full = true;
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
    else if (!full) send({ Type: 'heartbeat' });
  });
  try {
    await followExports(d, p.ID, ended.signal, async (e) => {
      if (full && drained) {
        await drainedOrAborted(drained, ended.signal);
        full = false;
        // What was computed before the wait is stale: have it computed again.
        if (e) return false;
      }
      if (!ended.signal.aborted) send(e ? { Type: 'exports', ...e } : { Type: 'terminated' });
      return true;
    });
  } finally {
    beat.cancel();
    signal.removeEventListener('abort', onLeave);
    const why = signal.aborted ? 'the peer stream was closed by the dialer' : ended.signal.aborted ? 'heartbeat timeout' : '';
    if (d.epDeps.replica.peerings.get(p.ID)) tracker.disconnected(p.ID, why);
  }
}
