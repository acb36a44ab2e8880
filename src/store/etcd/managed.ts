// The managed etcd backend (DESIGN §3): the Store of a server that runs its own etcd member.
// open() serves the bootstrap endpoints, starts the member (restart from its data dir, or plan
// a new or existing cluster with the other servers), then opens an EtcdStore on the voters; the
// leader's autopilot manages membership through members/promote/remove. A server may also be no
// member at all (a read replica, a standby while another holds etcd's one learner slot, or a
// demoted voter): its clients reach the voters through the local VoterProxy either way, and it
// joins again as a learner when autopilot asks (joinAsLearner) or when its member was removed.
import type { RequestListener, Server } from 'node:http';
import net, { type Socket } from 'node:net';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3, type IOptions } from 'etcd3';
import { ClosedError } from '../../errors.ts';
import type { KeyValue, LeaseGrant, RangeResult, Store, TxnRequest, TxnResponse, Watch, WatchHandlers } from '../store.ts';
import { EtcdStore, grpcTls, renewTls, type EtcdLogger } from './etcd.ts';
import type { HoldOptions } from './hold.ts';
import { askServer, bootstrapServer, clusterToken, joinTargets, planCluster, type JoinReply, type PeerInfo } from './managed-bootstrap.ts';
import { EtcdProcess, type ClusterSpec } from './managed-process.ts';
import { VoterProxy } from './managed-proxy.ts';
import { certificateNames, etcdTls, etcdTlsArgs, fromServer, scheme, writeTlsFiles, type ManagedTls } from './managed-tls.ts';
import { MemberCalls, noRetry } from './managed-members.ts';

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
  /**
   * Takes every connection on the server port first (the agent's TLS front door), handing
   * plaintext ones to `server`; absent: `server` listens itself.
   */
  acceptConnection?: (sock: Socket, server: Server) => void;
  /** retry_join addresses (host:port, or host for this server's own server port). */
  retryJoin: string[];
  /** Servers to wait for before a new cluster starts (1 with -bootstrap, 0: only join). */
  bootstrapExpect: number;
  /** Key namespace inside etcd. */
  prefix: string;
  /** A read replica never runs a member: it only uses the cluster as a client. */
  readReplica?: boolean;
  /**
   * The servers' TLS, read when the store opens: etcd's peer and client URLs, the bootstrap
   * requests and the store's own client then use TLS (mutual with verify_incoming); null: plaintext.
   */
  tls?: () => ManagedTls | null;
  /** How requests wait out an etcd election (EtcdStoreOptions.hold). */
  hold?: HoldOptions;
  /** Interval of the membership check (voters for the proxy, our own removal), ms (default 2,000). */
  refreshMs?: number;
  logger: EtcdLogger;
}

/** This server's place in the etcd cluster. */
export type LocalRole = 'voter' | 'learner' | 'client' | 'starting';

/** An etcd member as autopilot sees it. */
export interface ManagedMember {
  ID: string;
  /** Empty until the member has started. */
  Name: string;
  PeerURLs: string[];
  Learner: boolean;
}

const url = (proto: string, host: string, port: number) => `${proto}://${host.includes(':') ? `[${host}]` : host}:${port}`;
/** `host:port` of a URL: a member is the same whichever scheme it was registered with. */
const hostOf = (u: string) => u.replace(/^[a-z]+:\/\//, '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** A stable per-server rotation so non-voters spread their connections over the voters. */
function rotate<T>(list: T[], by: string): T[] {
  if (list.length < 2) return list;
  let h = 0;
  for (const c of by) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const k = h % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** A Store on a cluster whose local member this server supervises. */
export class ManagedEtcdStore implements Store {
  readonly kind = 'etcd';
  readonly #o: ManagedEtcdOptions;
  #tls: ManagedTls | null;
  readonly #proc: EtcdProcess;
  readonly #self: PeerInfo;
  readonly #proxy = new VoterProxy();
  /** Status and membership calls to single members. */
  #members: MemberCalls;
  #listener: Server | null = null;
  /** The server port's listener when acceptConnection fronts #listener. */
  #front: net.Server | null = null;
  #inner: EtcdStore | null = null;
  #admin: Etcd3 | null = null;
  #opening: Promise<void> | null = null;
  #closed = false;
  #role: LocalRole = 'starting';
  /** Serializes role changes (join, removal) with each other and with the refresh. */
  #changing: Promise<void> = Promise.resolve();
  #refreshTimer: NodeJS.Timeout | null = null;

  constructor(o: ManagedEtcdOptions) {
    this.#o = o;
    // The agent builds this store when it opens it, after loading its TLS files.
    this.#tls = o.tls?.() ?? null;
    const proto = scheme(this.#tls);
    const [client, peer] = [url(proto, o.advertiseAddr, o.clientPort), url(proto, o.advertiseAddr, o.peerPort)];
    this.#self = { Name: o.name, Datacenter: o.datacenter, PeerURL: peer, ClientURL: client, Member: false, ReadReplica: o.readReplica === true };
    const tls = this.#tls;
    this.#members = new MemberCalls(tls && etcdTls(tls));
    this.#proc = new EtcdProcess({
      binary: o.binary, name: o.name, dir: join(o.dataDir, 'etcd'), clientUrl: client, peerUrl: peer,
      listenClientUrl: url(proto, o.bindAddr, o.clientPort), listenPeerUrl: url(proto, o.bindAddr, o.peerPort), logger: o.logger,
      // Beside the member's data dir, which a removal wipes; each start takes the latest material.
      tlsArgs: tls ? () => etcdTlsArgs(this.#tlsDir(), this.#tls ?? tls) : undefined,
    });
  }


  /** The supervised process (pid, spawn count) for observation. */
  get process(): EtcdProcess {
    return this.#proc;
  }

  #tlsDir(): string {
    return join(this.#o.dataDir, 'etcd-tls');
  }

  /**
   * A reload's TLS material (tls.internal_rpc read again): etcd's files are replaced, so its key
   * pair changes at once (etcd reads it at every handshake) and its CA bundle and client
   * certificate rules when it next starts; the bootstrap requests and member calls use the new
   * material at once, the store's own etcd3 clients on their next connection (their open ones
   * stay). Turning TLS on or off is refused: the cluster's URLs would change scheme.
   */
  reloadTls(next: ManagedTls | null): void {
    if ((next === null) !== (this.#tls === null)) {
      this.#o.logger.warn({ tls: next !== null }, 'the reload turns TLS on or off for the managed store: ignored (it would need a new etcd cluster)');
      return;
    }
    if (!next || this.#closed) return;
    this.#tls = next;
    writeTlsFiles(this.#tlsDir(), next);
    const old = this.#members;
    this.#members = new MemberCalls(etcdTls(next));
    old.close();
    this.#inner?.renewTls(etcdTls(next));
    if (this.#admin) renewTls(this.#admin, etcdTls(next));
    this.#o.logger.info({}, 'managed etcd TLS material replaced');
  }

  /** This server's place in the cluster: a voting member, the learner, or a client of the voters. */
  localRole(): LocalRole {
    return this.#role;
  }

  /** This member's bootstrap record (a non-member names a voter's client URL). */
  peerInfo(): PeerInfo {
    const client = this.#role === 'client' ? (this.#proxy.voters()[0] ?? this.#self.ClientURL) : this.#self.ClientURL;
    return { ...this.#self, ClientURL: client };
  }

  /** Serves the bootstrap endpoints, starts the member, opens the store on the voters. */
  open(): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError());
    this.#opening ??= this.#open();
    return this.#opening;
  }

  async #open(): Promise<void> {
    const o = this.#o;
    if (this.#tls && !certificateNames(this.#tls, o.advertiseAddr)) {
      o.logger.warn({ advertise: o.advertiseAddr }, 'the server certificate does not name this server\'s advertise address: the other etcd members will refuse its member (add the address to the certificate\'s SANs)');
    }
    await this.#listen();
    const front = await this.#proxy.listen();
    const targets = joinTargets(o.retryJoin, o.serverPort);
    let clientUrls: string[] = [];
    if (this.#proc.hasData() && (o.readReplica || (await this.#removedFromCluster()))) {
      // Autopilot removed this server while it was down: its old member can never rejoin.
      const aside = `${join(o.dataDir, 'etcd')}.removed-${Date.now()}`;
      o.logger.warn({ movedTo: aside }, 'this server was removed from the etcd cluster; joining again as a new member');
      renameSync(join(o.dataDir, 'etcd'), aside);
    }
    let member = true;
    if (this.#proc.hasData()) {
      // etcd ignores the initial-cluster flags once its data dir holds a member.
      this.#proc.start({ initialCluster: `${o.name}=${this.#self.PeerURL}`, state: 'existing', token: clusterToken(o.datacenter) });
    } else {
      const noPeers = targets.length === 0 && o.bootstrapExpect <= 1;
      const plan = noPeers
        ? { spec: { initialCluster: `${o.name}=${this.#self.PeerURL}`, state: 'new', token: clusterToken(o.datacenter) } as ClusterSpec, clientUrls: [this.#self.ClientURL] }
        : await planCluster({
          self: this.#self, targets, expect: o.bootstrapExpect, logger: o.logger, closed: () => this.#closed, clientOnly: o.readReplica, tls: this.#tls,
        });
      if (plan.spec) this.#proc.start(plan.spec);
      member = plan.spec !== null;
      clientUrls = plan.clientUrls;
    }
    const learner = member ? await this.#readyUnlessRemoved() : false;
    if (learner === null) {
      member = false;
      clientUrls = await this.#peerClientUrls();
    }
    this.#role = !member ? 'client' : learner ? 'learner' : 'voter';
    this.#self.Member = true;
    // A voter's clients go to its own member, which forwards to the etcd leader; a learner serves
    // no client requests and a non-member has none: those go to the voters.
    const voters = this.#role === 'voter' ? [this.#self.ClientURL] : await this.#voterUrls(clientUrls);
    this.#proxy.setVoters(voters);
    o.logger.info({ voters, role: this.#role }, 'managed etcd ready');
    // Over TLS the proxy only carries the bytes: the client's session is with the member itself.
    const tls = this.#tls && etcdTls(this.#tls);
    const endpoint = tls ? front.replace(/^http:/, 'https:') : front;
    this.#inner = new EtcdStore({ endpoints: [endpoint], prefix: o.prefix, logger: o.logger, tls: tls ?? undefined, hold: o.hold });
    this.#admin = new Etcd3({
      hosts: [endpoint], faultHandling: { host: () => noRetry, global: noRetry }, defaultCallOptions: () => ({ deadline: Date.now() + 3000 }),
      ...(tls ? grpcTls(tls) : {}),
    });
    await this.#inner.open();
    await this.#refresh().catch(() => undefined);
    this.#scheduleRefresh();
  }

  #listen(): Promise<void> {
    const srv = bootstrapServer({
      info: () => this.peerInfo(), admit: (n, p) => this.admit(n, p), authorize: (req) => fromServer(this.#tls, req.socket),
    }, this.#o.logger);
    const others = this.#o.otherRequests;
    if (others) {
      const [bootstrap] = srv.listeners('request') as RequestListener[];
      srv.removeAllListeners('request');
      srv.on('request', (req, res) => ((req.url ?? '').startsWith('/v1/internal/etcd/') ? bootstrap(req, res) : others(req, res)));
    }
    this.#listener = srv;
    const accept = this.#o.acceptConnection;
    const port = accept ? (this.#front = net.createServer((sock) => accept(sock, srv))) : srv;
    return new Promise((resolve, reject) => {
      port.once('error', reject);
      port.listen(this.#o.serverPort, this.#o.bindAddr, () => resolve());
    });
  }

  /** Waits until the local member reports a leader; true when it is a learner. */
  async #ready(deadlineMs = Infinity): Promise<boolean> {
    const until = Date.now() + deadlineMs;
    for (let i = 0; ; i++) {
      if (this.#closed) throw new ClosedError('managed etcd');
      const s = await this.#members.status(this.#self.ClientURL).catch(() => null);
      if (s?.leader && s.leader !== '0') return s.isLearner;
      if (Date.now() > until) throw new Error('the etcd member did not join its cluster in time');
      if (i % 50 === 49) this.#o.logger.info({ member: this.#o.name, etcd: this.#proc.recentOutput() }, 'waiting for the etcd member to join its cluster');
      await sleep(100);
    }
  }

  /**
   * #ready, except that a member removed while it was starting (autopilot demoted it before its
   * server registered, or cleaned it up) is stopped and wiped: null, continue as a client.
   */
  async #readyUnlessRemoved(): Promise<boolean | null> {
    for (;;) {
      try {
        return await this.#ready(20_000);
      } catch (err) {
        if (this.#closed || !(await this.#removedFromCluster())) {
          if (this.#closed) throw err;
          continue;
        }
        this.#o.logger.warn({ member: this.#o.name }, 'this server\'s etcd member was removed while starting; continuing as a non-voting server');
        await this.#proc.stop();
        rmSync(join(this.#o.dataDir, 'etcd'), { recursive: true, force: true });
        return null;
      }
    }
  }

  /** Client URLs of the started voting members, asked of the plan's URLs, else of the join peers'. */
  async #voterUrls(known: string[]): Promise<string[]> {
    for (;;) {
      for (const u of known) {
        const list = await this.#members.list(u).catch(() => []);
        const voters = list.filter((m) => !m.isLearner && m.name).flatMap((m) => m.clientURLs);
        if (voters.length) return rotate(voters, this.#o.name);
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
      const list = await this.#members.list(u).catch(() => null);
      if (!list) continue;
      const me = hostOf(this.#self.PeerURL);
      const registered = list.flatMap((m) => m.peerURLs).find((p) => hostOf(p) === me);
      // Turning TLS on or off changes the peer URLs' scheme, which etcd keeps in its membership:
      // the member is still ours (its data must not be put aside), but the cluster cannot re-form.
      if (registered && registered !== this.#self.PeerURL) {
        this.#o.logger.error({ registered, now: this.#self.PeerURL }, 'this server\'s etcd member is registered under another scheme: switching TLS on or off for an existing managed cluster is not supported (save a snapshot, start the servers with empty data dirs, restore it)');
      }
      return registered === undefined;
    }
    return false;
  }

  async #peerClientUrls(): Promise<string[]> {
    const targets = joinTargets(this.#o.retryJoin, this.#o.serverPort);
    const infos = await Promise.all(targets.map((t) => askServer<PeerInfo>(this.#tls, t, '/v1/internal/etcd/peer', undefined, 2000).catch(() => null)));
    return infos.filter((p): p is PeerInfo => p !== null && p.Member && p.Datacenter === this.#o.datacenter).map((p) => p.ClientURL);
  }

  #scheduleRefresh(): void {
    if (this.#closed) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refresh().catch((err: unknown) => this.#o.logger.warn({ err }, 'etcd membership check failed')).finally(() => this.#scheduleRefresh());
    }, this.#o.refreshMs ?? 2000);
    this.#refreshTimer.unref();
  }

  /** Reads the membership: the voters for the proxy, our own role, and whether we were removed. */
  #refresh(): Promise<void> {
    const run = this.#changing.then(async () => {
      if (this.#closed || this.#role === 'starting') return;
      const list = (await this.#cluster().cluster.memberList({ linearizable: true })).members;
      const me = list.find((m) => m.peerURLs.some((p) => hostOf(p) === hostOf(this.#self.PeerURL)));
      const others = list.filter((m) => !m.isLearner && m.name && m !== me).flatMap((m) => m.clientURLs);
      const voting = me !== undefined && !me.isLearner;
      this.#proxy.setVoters(voting ? [this.#self.ClientURL, ...rotate(others, this.#o.name)] : rotate(others, this.#o.name));
      if (this.#role === 'client') return;
      if (!me) return this.#dropMember();
      this.#role = voting ? 'voter' : 'learner';
    });
    this.#changing = run.catch(() => undefined);
    return run;
  }

  /** Our member was removed (demoted, evicted or cleaned up): stop it, wipe it, stay a client. */
  async #dropMember(): Promise<void> {
    this.#o.logger.warn({ member: this.#o.name }, 'this server is no longer an etcd member; continuing as a non-voting server');
    this.#role = 'client';
    await this.#proc.stop();
    rmSync(join(this.#o.dataDir, 'etcd'), { recursive: true, force: true });
  }

  /**
   * Joins the cluster as its learner (autopilot asked: the slot is free): adds this server's
   * member, starts it from an empty data dir and waits until it follows the etcd leader.
   */
  joinAsLearner(): Promise<void> {
    const run = this.#changing.then(async () => {
      if (this.#closed || this.#role !== 'client' || this.#o.readReplica) return;
      const dir = join(this.#o.dataDir, 'etcd');
      rmSync(dir, { recursive: true, force: true });
      const reply = await this.admit(this.#o.name, this.#self.PeerURL);
      this.#role = 'starting';
      try {
        this.#proc.start({ initialCluster: reply.InitialCluster, state: 'existing', token: clusterToken(this.#o.datacenter) });
        await this.#ready(60_000);
        this.#role = 'learner';
        this.#o.logger.info({ member: this.#o.name }, 'joined the etcd cluster as its learner');
      } catch (err) {
        this.#role = 'client';
        await this.#proc.stop();
        throw err;
      }
    });
    this.#changing = run.catch(() => undefined);
    return run;
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

  /**
   * Moves etcd's Raft leadership to this server's member when it votes and another member leads
   * (etcd's MoveLeader, sent to the current leader), so that the Proconsul leader and etcd's
   * leader are one machine, as Consul's leader is its Raft leader: losing a follower then never
   * costs the datacenter an etcd election. True when leadership was moved.
   */
  async leadEtcd(): Promise<boolean> {
    if (this.#role !== 'voter' || this.#closed) return false;
    const status = await this.#members.status(this.#self.ClientURL);
    const me = status.id;
    if (!me || !status.leader || status.leader === '0' || status.leader === me) return false;
    const list = await this.#members.list(this.#self.ClientURL);
    const leaderUrl = list.find((m) => m.ID === status.leader)?.clientURLs[0];
    if (!leaderUrl) return false;
    await this.#members.moveLeader(leaderUrl, me);
    this.#o.logger.info({ member: this.#o.name }, 'moved etcd leadership to the Proconsul leader\'s member');
    return true;
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
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    await this.#opening?.catch(() => undefined);
    await this.#changing;
    await this.#inner?.close();
    this.#admin?.close();
    this.#members.close();
    await this.#proc.stop();
    await this.#proxy.close();
    const port = this.#front ?? this.#listener;
    await new Promise((r) => (port ? port.close(r) : r(undefined)));
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
