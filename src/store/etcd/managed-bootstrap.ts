// How managed servers form their etcd cluster without operator steps: each server answers
// `GET /v1/internal/etcd/peer` on its server port (Consul's 8300, the internal RPC port) and the
// servers named by `retry_join` are asked until `bootstrap_expect` are known, then all start a
// new cluster with the same sorted member list; a server that finds a running member instead
// asks it (`POST /v1/internal/etcd/member`) to be added as a learner and starts as `existing`.
// With the servers' TLS these requests go over TLS with the asking server's certificate.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { nodeHttp } from '../../node-http.ts';
import { ClosedError } from '../../errors.ts';
import type { EtcdLogger } from './etcd.ts';
import type { ClusterSpec } from './managed-process.ts';
import { requestJson, scheme, type ManagedTls } from './managed-tls.ts';

/** What a server says about its etcd member. */
export interface PeerInfo {
  Name: string;
  Datacenter: string;
  PeerURL: string;
  ClientURL: string;
  /** True once its member runs in a cluster with a leader: join it rather than bootstrap. */
  Member: boolean;
  /** A read replica: never part of a new cluster's initial members. */
  ReadReplica?: boolean;
}

/** The answer to a join request: the flags the joiner starts etcd with. */
export interface JoinReply {
  InitialCluster: string;
  /** Client URLs of the voting members (a learner serves no client requests). */
  ClientURLs: string[];
}

/** What the bootstrap endpoints need from the local member. */
export interface PeerSide {
  info(): PeerInfo;
  /** Adds a server as a learner (or finds it added already); throws while that is impossible. */
  admit(name: string, peerUrl: string): Promise<JoinReply>;
  /** Whether the request's connection may use these endpoints (a server's certificate); absent: any. */
  authorize?(req: IncomingMessage): boolean;
}

/** The cluster a server starts (or joins) and where its store connects. */
export interface ClusterPlan {
  /** null: no member of its own (a read replica, or the one learner slot is taken): an etcd client only. */
  spec: ClusterSpec | null;
  clientUrls: string[];
}

/**
 * Join targets of the bootstrap endpoints. A retry_join entry names a server's host and, when
 * it has a port, either that server's server port (distinct ports on one host, as in tests) or,
 * Consul-style, its serf LAN port: both `host:port` and `host:<this server's server port>` are
 * asked (servers of a datacenter normally share one port layout); a bare host only the latter.
 */
export function joinTargets(retryJoin: string[], serverPort: number): string[] {
  const out = new Set<string>();
  for (const a of retryJoin) {
    const m = /^(\[[^\]]+\]|[^:\[\]]+):(\d+)$/.exec(a);
    const host = m ? m[1] : a.includes(':') ? `[${a}]` : a;
    if (m) out.add(a);
    out.add(`${host}:${serverPort}`);
  }
  return [...out];
}

/** The cluster token: one etcd cluster per datacenter. */
export function clusterToken(datacenter: string): string {
  return `proconsul-${datacenter}`;
}

/** Asks a server's bootstrap endpoints (over TLS with our certificate when the servers use TLS). */
export function askServer<T>(tls: ManagedTls | null, target: string, path: string, body?: unknown, timeoutMs = 3000): Promise<T> {
  return requestJson<T>(`${scheme(tls)}://${target}${path}`, { method: body === undefined ? 'GET' : 'POST', body, timeoutMs, tls });
}

/** Options of planCluster. */
export interface PlanOptions {
  self: PeerInfo;
  targets: string[];
  /** bootstrap_expect (1 with -bootstrap; 0: never bootstrap, only join). */
  expect: number;
  logger: EtcdLogger;
  /** True once the agent is stopping: planning gives up. */
  closed: () => boolean;
  /** Never become a member: wait for a running cluster and use it as a client (read replicas). */
  clientOnly?: boolean;
  /** Longest wait between rounds (default 1 s); the first waits are shorter (planRetryMs). */
  retryMs?: number;
  /** Waits between rounds (default: a timer); tests pass one that records the schedule. */
  sleep?: (ms: number) => Promise<void>;
  /** The servers' TLS (their server ports refuse plaintext with verify_incoming); null: plaintext. */
  tls: ManagedTls | null;
}

/** First wait between planning rounds: the servers of a datacenter start within moments of each other. */
const PLAN_RETRY_MIN_MS = 200;

/**
 * The wait after planning round `round` (0-based): 200 ms doubling up to `maxMs`. A flat 1 s cost
 * every formation up to a second after the last server answered (servers started together find
 * each other in the second round); waiting longer than that keeps the old 1 s rate.
 */
export function planRetryMs(round: number, maxMs = 1000): number {
  return Math.min(maxMs, PLAN_RETRY_MIN_MS * 2 ** Math.min(round, 10));
}

/** One join target's answer to `GET /v1/internal/etcd/peer`: its record, or why there is none. */
interface PeerAnswer { t: string; p: PeerInfo | null; err?: string }

/** Asks every join target for its peer record at once. */
function askPeers(o: PlanOptions): Promise<PeerAnswer[]> {
  return Promise.all(o.targets.map((t) => askServer<PeerInfo>(o.tls, t, '/v1/internal/etcd/peer').then(
    (p): PeerAnswer => ({ t, p }),
    (err: unknown): PeerAnswer => ({ t, p: null, err: err instanceof Error ? err.message : String(err) }),
  )));
}

/** Asks the join targets until a running member admits us or `expect` servers are known. */
export async function planCluster(o: PlanOptions): Promise<ClusterPlan> {
  const token = clusterToken(o.self.Datacenter);
  for (let round = 0; ; round++) {
    if (o.closed()) throw new ClosedError('etcd bootstrap');
    const answers = await askPeers(o);
    const peers = answers.filter((a) => a.p && a.p.Datacenter === o.self.Datacenter && a.p.Name !== o.self.Name);
    const running = peers.find((a) => a.p!.Member);
    if (running && o.clientOnly) {
      o.logger.info({ via: running.t }, 'using the running etcd cluster as a client (no member of our own)');
      return { spec: null, clientUrls: [running.p!.ClientURL] };
    }
    if (running) {
      try {
        const reply = await askServer<JoinReply>(o.tls, running.t, '/v1/internal/etcd/member', o.self);
        o.logger.info({ via: running.t, initialCluster: reply.InitialCluster }, 'joining the running etcd cluster as a learner');
        return { spec: { initialCluster: reply.InitialCluster, state: 'existing', token }, clientUrls: reply.ClientURLs };
      } catch (err) {
        // etcd 3.4 allows one learner and adds no member while a voter is unreachable: until
        // autopilot calls us in (after cleaning up a dead voter), serve as a client of the voters.
        if (/too many learner|unhealthy cluster/i.test(String(err))) {
          o.logger.info({ via: running.t, reason: String(err) }, 'etcd adds no member now: starting as a non-member server');
          return { spec: null, clientUrls: [running.p!.ClientURL] };
        }
        o.logger.warn({ err, via: running.t }, 'etcd join refused; retrying');
      }
    } else {
      const known = new Map([o.self, ...peers.map((a) => a.p!)].filter((p) => !p.ReadReplica).map((p) => [p.Name, p]));
      if (o.expect > 0 && !o.clientOnly && known.size >= o.expect) {
        const members = [...known.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
        const initialCluster = members.map((p) => `${p.Name}=${p.PeerURL}`).join(',');
        o.logger.info({ initialCluster }, 'bootstrapping a new etcd cluster');
        return { spec: { initialCluster, state: 'new', token }, clientUrls: members.map((p) => p.ClientURL) };
      }
      if (round % 10 === 0) {
        // Why the others are not known yet: not listening, a refused certificate, another datacenter…
        const unanswered = answers.filter((a) => a.err !== undefined).map((a) => `${a.t}: ${a.err}`).join(' | ');
        o.logger.info({ known: [...known.keys()], expect: o.expect, targets: o.targets, unanswered }, 'waiting for servers to bootstrap etcd');
      }
    }
    const wait = planRetryMs(round, o.retryMs);
    await (o.sleep ? o.sleep(wait) : new Promise((r) => setTimeout(r, wait)));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString();
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' });
  res.end(text);
}

async function handle(side: PeerSide, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (side.authorize && !side.authorize(req)) return reply(res, 403, 'Permission denied: the etcd bootstrap is for servers only');
  if (path === '/v1/internal/etcd/peer' && req.method === 'GET') return reply(res, 200, side.info());
  if (path !== '/v1/internal/etcd/member') return reply(res, 404, 'not found');
  if (req.method !== 'POST') return reply(res, 405, 'method not allowed');
  const body = JSON.parse(await readBody(req)) as Partial<PeerInfo>;
  const self = side.info();
  if (typeof body.Name !== 'string' || typeof body.PeerURL !== 'string' || !/^https?:\/\//.test(body.PeerURL)) return reply(res, 400, 'Name and PeerURL are required');
  if (body.Datacenter !== self.Datacenter) return reply(res, 400, `datacenter ${body.Datacenter} is not ${self.Datacenter}`);
  if (!self.Member) return reply(res, 503, 'this server has no running etcd member yet');
  return reply(res, 200, await side.admit(body.Name, body.PeerURL));
}

/** The HTTP listener of the bootstrap endpoints (bound on the server port by the caller). */
export function bootstrapServer(side: PeerSide, logger: EtcdLogger): Server {
  return nodeHttp.createServer((req, res) => {
    handle(side, req, res).catch((err: unknown) => {
      logger.warn({ err, path: req.url }, 'etcd bootstrap request failed');
      if (!res.headersSent) reply(res, 503, err instanceof Error ? err.message : String(err));
    });
  });
}
