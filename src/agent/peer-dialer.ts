// The dialer's side of the peer stream (protocol in peer-stream.ts): the secret exchange that
// Establish runs, one redialed stream per dialing peering (the acceptor's messages read, ours
// pushed, silence ended by the heartbeat timeout), and the leader duty that keeps those streams
// and finishes deletions.
import type { IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { nodeHttp, nodeHttps } from '../node-http.ts';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { InternalError, PermissionDeniedError } from '../errors.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import { PEERINGS_TABLE, type StoredPeering } from '../state/index.ts';
import { peeringActive, shouldDial } from '../endpoint/peering.ts';
import type { PeeringRecord } from '../api/peering.ts';
import type { LeaderLoop } from '../leader/loops.ts';
import { EXCHANGE_PATH, MAX_MESSAGE_BYTES, PUSH_PATH, STREAM_PATH, every, followExports, peerMessage, receive, type PeerMessage, type PeerStreamDeps } from './peer-stream.ts';

/** The longest one push to the acceptor may take. */
const PUSH_TIMEOUT_MS = 30_000;

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
): Promise<IncomingMessage> {
  const { host, port } = hostPort(addr);
  const tls = (p.PeerCAPems?.length ?? 0) > 0;
  const opts: RequestOptions = {
    host, port, method, path, signal, agent: false,
    headers: { ...headers, ...(body !== null ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}) },
    // The acceptor's HTTPS certificate is its agent's, not one made for peering: it must be valid
    // for the address dialed or for Consul's server name of the acceptor's datacenter.
    ...(tls ? { ca: p.PeerCAPems, checkServerIdentity: (h: string, cert: PeerCertificate) => acceptorIdentity(p, h, cert) } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (tls ? nodeHttps : nodeHttp).request(opts, resolve);
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
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
      if (res.statusCode === 403) throw new PermissionDeniedError(text);
      errors.push(`failed to exchange peering secret through address "${addr}": ${text}`);
    } catch (err) {
      if (err instanceof PermissionDeniedError) throw err;
      errors.push(`failed to exchange peering secret through address "${addr}": ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new InternalError(multiError(errors));
}

/** Errors listed as Go's hashicorp/go-multierror formats them (Consul returns its exchange errors so). */
function multiError(errors: string[]): string {
  if (errors.length === 1) return `1 error occurred:\n\t* ${errors[0]}\n\n`;
  return `${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join('\n\t')}\n\n`;
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
    const p = this.#peering();
    // The acceptor records where its peer is: this cluster's datacenter and the dialing peering's partition.
    const remote = p?.Partition ? { ...this.#d.remote, Partition: this.#d.epDeps.replica.tenants.partitions.partition(p.Partition)?.Name ?? p.Partition } : this.#d.remote;
    return { 'X-Proconsul-Peer-ID': p?.PeerID ?? '', 'X-Proconsul-Stream-Secret': this.secret, 'X-Proconsul-Peer-Remote': JSON.stringify(remote) };
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
      await this.#pause();
    }
  }

  /** Waits out the redial delay, or until stopped (its abort listener removed either way: a long outage adds none). */
  #pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      const signal = this.#stop.signal;
      const done = () => {
        h.cancel();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const h = this.#d.clock.setTimer(this.#d.retryMs ?? 2000, done);
      signal.addEventListener('abort', done, { once: true });
    });
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
    // An address that takes the connection and never answers (a hung server, a middlebox) must
    // not hold the dialer: without headers in time the attempt ends and the next address is tried.
    const opening = d.clock.setTimer(d.streamOpenTimeoutMs ?? 10_000, () => session.abort(new Error('the peer did not answer the stream request')));
    let opened = false;
    try {
      const res = await peerRequest(p, addr, 'GET', STREAM_PATH, this.#headers(), null, session.signal).finally(() => opening.cancel());
      if (res.statusCode === 410) {
        await readAll(res);
        await d.peering.terminate(p.ID);
        return;
      }
      if (res.statusCode !== 200) throw new Error(`peer answered ${res.statusCode}: ${await readAll(res)}`);
      d.peering.tracker.connected(p.ID);
      opened = true;
      quiet();
      const pushLoop = this.#pushes(p, addr, session);
      let buf = '';
      // Decoded across chunks: a character split between two reads must not become U+FFFD.
      res.setEncoding('utf8');
      for await (const chunk of res) {
        quiet();
        buf += chunk as string;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line) await receive(d, p, peerMessage(JSON.parse(line)));
        }
        // A peer that never ends its line would otherwise grow this buffer without bound.
        if (buf.length > MAX_MESSAGE_BYTES) throw new Error('peering message too large');
      }
      session.abort();
      await pushLoop;
      throw new Error('the peer stream ended');
    } finally {
      opening.cancel();
      silence?.cancel();
      session.abort();
      this.#stop.signal.removeEventListener('abort', onStop);
      // Stopped (leadership moved on, the peering changed): an orderly close, not left connected,
      // or this server would go on answering (and publishing) a stream it no longer holds.
      // Other ends are recorded with their error by the caller.
      if (opened && this.#stop.signal.aborted) d.peering.tracker.disconnected(p.ID, '');
    }
  }

  /** Pushes our exports (on change) and heartbeats to the acceptor while the session lasts; a failed push ends the session. */
  async #pushes(p: StoredPeering, addr: string, session: AbortController): Promise<void> {
    const d = this.#d;
    const signal = session.signal;
    const push = async (m: PeerMessage) => {
      if (signal.aborted) return;
      // Each push is bounded too: pushes that hang would otherwise pile up a socket per heartbeat.
      const res = await peerRequest(p, addr, 'POST', PUSH_PATH, this.#headers(), JSON.stringify(m), AbortSignal.any([signal, AbortSignal.timeout(PUSH_TIMEOUT_MS)]));
      const text = await readAll(res);
      if (res.statusCode === 410) await d.peering.terminate(p.ID);
      else if (res.statusCode !== 200) throw new Error(`peer refused a push (${res.statusCode}): ${text}`);
      d.peering.tracker.sent(p.ID);
    };
    // A heartbeat at once, as the acceptor sends one, then every interval.
    void push({ Type: 'heartbeat' }).catch(() => {});
    const beat = every(d.clock, d.heartbeatMs ?? 15_000, () => void push({ Type: 'heartbeat' }).catch(() => {}));
    try {
      await followExports(d, p.ID, signal, (e) => (e ? push({ Type: 'exports', ...e }) : undefined));
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
