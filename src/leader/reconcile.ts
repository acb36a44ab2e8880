// Leader duty: reconcile gossip members into the catalog (Consul's leader reconcileMember):
// alive → node (plus the `consul` service for servers) with a passing serfHealth check,
// failed → serfHealth critical, left or reaped → node deregistered. Member events are applied
// as they arrive, all members on gaining leadership, and a full pass (including nodes gossip no
// longer knows) every interval. Sessions tied to serfHealth are invalidated by the catalog write.
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Gossip, Member } from '../gossip/index.ts';
import type { CatalogEndpoint, QueryOptions } from '../endpoint/index.ts';
import {
  foldName, partitionCatalog, partitionEnt, DEFAULT_TENANCY_NAME, type CatalogTables, type EnterpriseMeta, type Replica,
} from '../state/index.ts';
import type { NodeService } from '../api/catalog-types.ts';
import { SERF_CHECK_ID } from './self-register.ts';
import type { LeaderLoop } from './loops.ts';

const CONSISTENT: QueryOptions = { minIndex: 0, waitMs: 0, consistency: 'consistent', token: '' };

/** A member's admin partition (Consul Enterprise's `ap` tag), lower-case; default when it has none. */
function memberPartition(m: Member): string {
  const ap = (m.tags.ap ?? '').toLowerCase();
  return ap || DEFAULT_TENANCY_NAME;
}

/** The tenant of a partition's nodes; undefined for the default partition (the catalog's own paths). */
function partitionOf(ap: string): EnterpriseMeta | undefined {
  return ap === DEFAULT_TENANCY_NAME ? undefined : partitionEnt(ap);
}

/** The catalog tables holding a partition's nodes. */
function tablesOf(replica: Replica, ap: string): CatalogTables {
  return ap === DEFAULT_TENANCY_NAME ? replica.catalog : partitionCatalog(replica, ap);
}

/** Consul's reconcile_interval. */
export const RECONCILE_INTERVAL_MS = 60_000;

/** What the reconciler reads and writes. */
export interface MemberReconcileDeps {
  gossip: Gossip;
  catalog: () => CatalogEndpoint;
  replica: Replica;
  datacenter: string;
  /** This server: never deregistered by its own reconcile (a successor does it). */
  nodeName: string;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
  /** Consul's leader.reconcile (a whole pass) and leader.reconcileMember (one member) timers, in ms. */
  timers?: { reconcile(ms: number): void; reconcileMember(ms: number): void };
}

/** Serf health as the reconciler sees a member. */
type Health = 'alive' | 'failed' | 'left';

function healthOf(m: Member): Health {
  if (m.state === 'dead') return 'failed';
  return m.state === 'left' ? 'left' : 'alive';
}

/** The `consul` service a server member is registered with. */
function consulService(m: Member): Partial<NodeService> {
  return {
    ID: 'consul', Service: 'consul', Port: Number(m.tags.port) || 8300, Tags: [], Address: '',
    Meta: {
      raft_version: m.tags.raft_vsn ?? '3', serf_protocol_current: '2', serf_protocol_max: '5', serf_protocol_min: '1',
      version: (m.tags.build ?? '').split(':')[0],
    },
    Weights: { Passing: 1, Warning: 1 },
  };
}

/** Members → catalog, run only on the leader. */
export class MemberReconciler implements LeaderLoop {
  readonly name = 'member-reconcile';
  readonly #d: MemberReconcileDeps;
  readonly #log: Logger;
  #unsubscribe: (() => void) | null = null;
  #timer: TimerHandle | null = null;
  #chain: Promise<void> = Promise.resolve();

  constructor(deps: MemberReconcileDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ '@module': 'leader.reconcile' });
  }

  /** Follows member events and reconciles every current member. */
  async start(): Promise<void> {
    this.#unsubscribe = this.#d.gossip.on((e) => {
      if (e.type === 'user') return;
      if (e.type === 'member-reap') void this.#enqueue(() => this.#deregister(e.member.name, memberPartition(e.member)));
      else void this.#enqueue(() => this.reconcileMember(e.member));
    });
    await this.#enqueue(async () => {
      const t0 = performance.now();
      for (const m of this.#d.gossip.members()) await this.reconcileMember(m);
      this.#d.timers?.reconcile(performance.now() - t0);
    });
    this.#schedule();
  }

  /** Stops following events and the periodic pass. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#timer?.cancel();
    this.#timer = null;
  }

  /** One full pass: every member, then catalog nodes with serfHealth that gossip no longer knows. */
  reconcileAll(): Promise<void> {
    return this.#enqueue(async () => {
      const t0 = performance.now();
      const members = this.#d.gossip.members();
      for (const m of members) await this.reconcileMember(m);
      // Lower-cased, as Consul's reconcileReaped: a node stored as Foo is gossip's member foo (in its partition).
      const known = new Set(members.map((m) => `${memberPartition(m)}/${foldName(m.name)}`));
      // The default partition and every partition with a record (its builtin one included).
      for (const ap of new Set([DEFAULT_TENANCY_NAME, ...this.#d.replica.tenants.partitions.entries().map(([id]) => id)])) {
        const cat = ap === DEFAULT_TENANCY_NAME ? this.#d.replica.catalog : partitionCatalog(this.#d.replica, ap);
        for (const [node, checks] of [...cat.checks]) {
          if (!known.has(`${ap}/${foldName(node)}`) && checks.has(SERF_CHECK_ID)) await this.#deregister(node, ap);
        }
      }
      this.#d.timers?.reconcile(performance.now() - t0);
    });
  }

  /** Brings one member's catalog entry in line with its gossip state. */
  async reconcileMember(m: Member): Promise<void> {
    const role = m.tags.role;
    if ((role !== 'consul' && role !== 'node') || m.tags.dc !== this.#d.datacenter) return;
    const t0 = performance.now();
    try {
      const h = healthOf(m);
      if (h === 'left') await this.#deregister(m.name, memberPartition(m));
      else await this.#register(m, h === 'alive');
    } catch (err) {
      this.#log.warn({ node: m.name, error: (err as Error).message }, 'member not reconciled');
    }
    this.#d.timers?.reconcileMember(performance.now() - t0);
  }

  async #register(m: Member, alive: boolean): Promise<void> {
    const ap = memberPartition(m);
    const ent = partitionOf(ap);
    const cat = tablesOf(this.#d.replica, ap);
    // Node names are case-insensitive (Consul's node index): a node stored as Foo is member foo's.
    const stored = cat.nodeName(m.name);
    let node = cat.nodes.get(stored);
    const check = cat.checks.get(stored)?.get(SERF_CHECK_ID);
    const server = m.tags.role === 'consul' && alive;
    const want = alive ? 'passing' : 'critical';
    if (node && node.Address === m.addr && check?.Status === want && (!server || cat.services.get(stored)?.has('consul'))) return;
    // A client agent's anti-entropy may have registered the node through another server moments
    // ago: read through to the store before creating it, and leave an existing node's own details
    // (meta, tagged addresses) to its agent.
    if (!node) node = (await this.#d.catalog().node(m.name, ent ? { ...CONSISTENT, ent } : CONSISTENT)).value?.Node;
    const tagged = { lan: m.addr, lan_ipv4: m.addr, wan: m.addr, wan_ipv4: m.addr };
    const keep = node !== undefined && node.Address === m.addr;
    await this.#d.catalog().register({
      ID: m.tags.id || undefined, Node: m.name, Address: m.addr,
      ...(keep ? { SkipNodeUpdate: true } : { TaggedAddresses: node?.TaggedAddresses ?? tagged, NodeMeta: node?.Meta ?? undefined }),
      ...(server ? { Service: consulService(m) } : {}),
      Check: {
        CheckID: SERF_CHECK_ID, Name: 'Serf Health Status', Status: want,
        Output: alive ? 'Agent alive and reachable' : 'Agent not live or unreachable',
      },
    }, undefined, ent);
    this.#log.info({ member: m.name, status: want }, alive ? 'member alive: registered' : 'member failed: marked critical');
  }

  async #deregister(node: string, ap = DEFAULT_TENANCY_NAME): Promise<void> {
    // The leader never removes itself; whoever leads next does (servers are in the default partition).
    const cat = tablesOf(this.#d.replica, ap);
    if ((ap === DEFAULT_TENANCY_NAME && foldName(node) === foldName(this.#d.nodeName)) || !cat.node(node)) return;
    node = cat.nodeName(node);
    try {
      await this.#d.catalog().deregister({ Node: node }, undefined, partitionOf(ap));
      this.#log.info({ member: node }, 'member left or reaped: deregistered');
    } catch (err) {
      this.#log.warn({ node, error: (err as Error).message }, 'member not deregistered');
    }
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(step, step);
    return this.#chain;
  }

  #schedule(): void {
    this.#timer = this.#d.clock.setTimer(this.#d.intervalMs ?? RECONCILE_INTERVAL_MS, () => {
      if (!this.#unsubscribe) return;
      void this.reconcileAll().finally(() => { if (this.#unsubscribe) this.#schedule(); });
    });
  }
}
