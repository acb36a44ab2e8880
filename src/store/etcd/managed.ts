// The managed etcd backend (DESIGN §3): the Store of a server that runs its own etcd member.
// open() serves the bootstrap endpoints, starts the member (restart from its data dir, or plan
// a new or existing cluster with the other servers), then opens an EtcdStore on the voters; the
// leader's autopilot manages membership through members/promote/remove.
import type { RequestListener, Server } from 'node:http';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3, type IOptions } from 'etcd3';
import { ClosedError } from '../../errors.ts';
import type { KeyValue, LeaseGrant, RangeResult, Store, TxnRequest, TxnResponse, Watch, WatchHandlers } from '../store.ts';
import { EtcdStore, type EtcdLogger } from './etcd.ts';
import { bootstrapServer, clusterToken, joinTargets, planCluster, type JoinReply, type PeerInfo } from './managed-bootstrap.ts';
import { EtcdProcess, type ClusterSpec } from './managed-process.ts';

/** Configuration of a managed member. */
export interface ManagedEtcdOptions {
  binary: string;
  /** Node name (the member's name) and datacenter (one cluster each). */
  name: string;
  datacenter: string;
  /** The agent's data dir; the member lives in `<dataDir>/etcd`. */
  dataDir: string;
  bindAddr: string;
  advertiseAddr: string;
  clientPort: number;
  peerPort: number;
  /** Port of the bootstrap endpoints (the server port). */
  serverPort: number;
  /** Serves every other request on the server port (the agent's internal RPC shares the listener). */
  otherRequests?: RequestListener;
  /** retry_join addresses (host:port, or host for this server's own server port). */
  retryJoin: string[];
  /** Servers to wait for before a new cluster starts (1 with -bootstrap, 0: only join). */
  bootstrapExpect: number;
  /** Key namespace inside etcd. */
  prefix: string;
  logger: EtcdLogger;
}

/** An etcd member as autopilot sees it. */
export interface ManagedMember {
  ID: string;
  /** Empty until the member has started. */
  Name: string;
  PeerURLs: string[];
  Learner: boolean;
}

const url = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface MemberStatus { leader?: string; isLearner?: boolean }
interface GatewayMember { name?: string; clientURLs?: string[]; isLearner?: boolean }

/** Membership calls run once: autopilot and joiners retry on their own schedule. */
const noRetry = {
  execute: async <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T) => fn({ signal: new AbortController().signal }),
} as unknown as NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

async function post<T>(u: string): Promise<T> {
  const res = await fetch(u, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${res.status}`);
  return (await res.json()) as T;
}

/** A Store on a cluster whose local member this server supervises. */
export class ManagedEtcdStore implements Store {
  readonly kind = 'etcd';
  readonly #o: ManagedEtcdOptions;
  readonly #proc: EtcdProcess;
  readonly #self: PeerInfo;
  #listener: Server | null = null;
  #inner: EtcdStore | null = null;
  #admin: Etcd3 | null = null;
  #opening: Promise<void> | null = null;
  #closed = false;

  constructor(o: ManagedEtcdOptions) {
    this.#o = o;
    const [client, peer] = [url(o.advertiseAddr, o.clientPort), url(o.advertiseAddr, o.peerPort)];
    this.#self = { Name: o.name, Datacenter: o.datacenter, PeerURL: peer, ClientURL: client, Member: false };
    this.#proc = new EtcdProcess({
      binary: o.binary, name: o.name, dir: join(o.dataDir, 'etcd'), clientUrl: client, peerUrl: peer,
      listenClientUrl: url(o.bindAddr, o.clientPort), listenPeerUrl: url(o.bindAddr, o.peerPort), logger: o.logger,
    });
  }

  /** The supervised process (pid, spawn count) for observation. */
  get process(): EtcdProcess {
    return this.#proc;
  }

  /** This member's bootstrap record. */
  peerInfo(): PeerInfo {
    return { ...this.#self };
  }

  /** Serves the bootstrap endpoints, starts the member, opens the store on the voters. */
  open(): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError());
    this.#opening ??= this.#open();
    return this.#opening;
  }

  async #open(): Promise<void> {
    const o = this.#o;
    await this.#listen();
    const targets = joinTargets(o.retryJoin, o.serverPort);
    let clientUrls: string[] = [];
    if (this.#proc.hasData() && (await this.#removedFromCluster())) {
      // Autopilot removed this server while it was down: its old member can never rejoin.
      const aside = `${join(o.dataDir, 'etcd')}.removed-${Date.now()}`;
      o.logger.warn({ movedTo: aside }, 'this server was removed from the etcd cluster; joining again as a new member');
      renameSync(join(o.dataDir, 'etcd'), aside);
    }
    if (this.#proc.hasData()) {
      // etcd ignores the initial-cluster flags once its data dir holds a member.
      this.#proc.start({ initialCluster: `${o.name}=${this.#self.PeerURL}`, state: 'existing', token: clusterToken(o.datacenter) });
    } else {
      const noPeers = targets.length === 0 && o.bootstrapExpect <= 1;
      const plan = noPeers
        ? { spec: { initialCluster: `${o.name}=${this.#self.PeerURL}`, state: 'new', token: clusterToken(o.datacenter) } as ClusterSpec, clientUrls: [this.#self.ClientURL] }
        : await planCluster({ self: this.#self, targets, expect: o.bootstrapExpect, logger: o.logger, closed: () => this.#closed });
      this.#proc.start(plan.spec);
      clientUrls = plan.clientUrls;
    }
    const learner = await this.#ready();
    this.#self.Member = true;
    // A voter's store talks to its own member, which forwards to the etcd leader: no client-side
    // failover needed when another server dies. A learner serves no client requests: use voters.
    const endpoints = learner ? await this.#voterUrls(clientUrls) : [this.#self.ClientURL];
    o.logger.info({ endpoints, learner }, 'managed etcd member ready');
    this.#inner = new EtcdStore({ endpoints, prefix: o.prefix, logger: o.logger });
    this.#admin = new Etcd3({ hosts: endpoints, faultHandling: { host: () => noRetry, global: noRetry }, defaultCallOptions: () => ({ deadline: Date.now() + 3000 }) });
    await this.#inner.open();
  }

  #listen(): Promise<void> {
    const srv = bootstrapServer({ info: () => this.peerInfo(), admit: (n, p) => this.admit(n, p) }, this.#o.logger);
    const others = this.#o.otherRequests;
    if (others) {
      const [bootstrap] = srv.listeners('request') as RequestListener[];
      srv.removeAllListeners('request');
      srv.on('request', (req, res) => ((req.url ?? '').startsWith('/v1/internal/etcd/') ? bootstrap(req, res) : others(req, res)));
    }
    this.#listener = srv;
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.#o.serverPort, this.#o.bindAddr, () => resolve());
    });
  }

  /** Waits until the local member reports a leader; true when it is a learner. */
  async #ready(): Promise<boolean> {
    for (let i = 0; ; i++) {
      if (this.#closed) throw new ClosedError('managed etcd');
      const s = await post<MemberStatus>(`${this.#self.ClientURL}/v3/maintenance/status`).catch(() => null);
      if (s?.leader && s.leader !== '0') return s.isLearner === true;
      if (i % 50 === 49) this.#o.logger.info({ member: this.#o.name }, 'waiting for the etcd member to join its cluster');
      await sleep(100);
    }
  }

  /** Client URLs of the started voting members, asked of the plan's URLs, else of the join peers'. */
  async #voterUrls(known: string[]): Promise<string[]> {
    for (;;) {
      for (const u of known) {
        const list = await post<{ members?: GatewayMember[] }>(`${u}/v3/cluster/member/list`).catch(() => null);
        const voters = (list?.members ?? []).filter((m) => !m.isLearner && m.name).flatMap((m) => m.clientURLs ?? []);
        if (voters.length) return voters;
      }
      if (this.#closed) throw new ClosedError('managed etcd');
      // A restarted learner knows no voter yet: ask the join peers where their members are.
      known = await this.#peerClientUrls();
      await sleep(500);
    }
  }

  /** True when a running member of the cluster lists no member with this server's peer URL. */
  async #removedFromCluster(): Promise<boolean> {
    for (const u of await this.#peerClientUrls()) {
      const list = await post<{ members?: { peerURLs?: string[] }[] }>(`${u}/v3/cluster/member/list`).catch(() => null);
      if (list?.members) return !list.members.some((m) => m.peerURLs?.includes(this.#self.PeerURL));
    }
    return false;
  }

  async #peerClientUrls(): Promise<string[]> {
    const targets = joinTargets(this.#o.retryJoin, this.#o.serverPort);
    const infos = await Promise.all(targets.map((t) => fetch(`http://${t}/v1/internal/etcd/peer`, { signal: AbortSignal.timeout(2000) })
      .then(async (r) => (await r.json()) as PeerInfo).catch(() => null)));
    return infos.filter((p): p is PeerInfo => p !== null && p.Member && p.Datacenter === this.#o.datacenter).map((p) => p.ClientURL);
  }

  #cluster(): Etcd3 {
    if (this.#closed) throw new ClosedError();
    if (!this.#admin) throw new ClosedError('managed etcd (not opened)');
    return this.#admin;
  }

  /** Every etcd member, read linearizably. */
  async members(): Promise<ManagedMember[]> {
    const res = await this.#cluster().cluster.memberList({ linearizable: true });
    return res.members.map((m) => ({ ID: m.ID, Name: m.name, PeerURLs: m.peerURLs, Learner: m.isLearner === true }));
  }

  /** Promotes a learner; etcd refuses while it has not caught up with the leader. */
  async promote(id: string): Promise<void> {
    await this.#cluster().cluster.memberPromote({ ID: id });
  }

  /** Removes a member from the cluster. */
  async remove(id: string): Promise<void> {
    await this.#cluster().cluster.memberRemove({ ID: id });
  }

  /** Adds a joining server as a learner unless its peer URL is a member already. */
  async admit(name: string, peerUrl: string): Promise<JoinReply> {
    const cluster = this.#cluster().cluster;
    let members = (await cluster.memberList({ linearizable: true })).members;
    if (!members.some((m) => m.peerURLs.includes(peerUrl))) {
      members = (await cluster.memberAdd({ peerURLs: [peerUrl], isLearner: true })).members;
      this.#o.logger.info({ name, peerUrl }, 'etcd learner added for a joining server');
    }
    const named = members.flatMap((m) => {
      const n = m.peerURLs.includes(peerUrl) ? name : m.name;
      return n ? m.peerURLs.map((u) => `${n}=${u}`) : [];
    });
    const voters = members.filter((m) => !m.isLearner && m.name).flatMap((m) => m.clientURLs);
    return { InitialCluster: named.join(','), ClientURLs: voters };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#opening?.catch(() => undefined);
    await this.#inner?.close();
    this.#admin?.close();
    await this.#proc.stop();
    await new Promise((r) => (this.#listener ? this.#listener.close(r) : r(undefined)));
    this.#listener?.closeAllConnections();
  }

  #store(): EtcdStore {
    if (this.#closed) throw new ClosedError();
    if (!this.#inner) throw new ClosedError('managed etcd store (not opened)');
    return this.#inner;
  }

  currentRevision(): Promise<number> { return this.#store().currentRevision(); }
  range(prefix: string): Promise<RangeResult> { return this.#store().range(prefix); }
  get(key: string): Promise<KeyValue | null> { return this.#store().get(key); }
  txn(req: TxnRequest): Promise<TxnResponse> { return this.#store().txn(req); }
  watch(afterRevision: number, handlers: WatchHandlers): Watch { return this.#store().watch(afterRevision, handlers); }
  leaseGrant(ttlSeconds: number): Promise<LeaseGrant> { return this.#store().leaseGrant(ttlSeconds); }
  leaseKeepAlive(id: number): Promise<void> { return this.#store().leaseKeepAlive(id); }
  leaseRevoke(id: number): Promise<void> { return this.#store().leaseRevoke(id); }
  snapshot(): AsyncIterable<Uint8Array> { return this.#store().snapshot(); }
  restore(stream: AsyncIterable<Uint8Array>): Promise<number> { return this.#store().restore(stream); }
}
