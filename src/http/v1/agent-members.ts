// /v1/agent/members, /v1/agent/join/:address and /v1/agent/force-leave/:node: the agent's
// view of the LAN gossip pool (or with `?wan` the servers' WAN pool; `?segment` '' or `_all`) in Consul's member JSON,
// joining more agents, and removing a failed member (`?prune` erases it at once).
import { BadRequestError, InternalError } from '../../errors.ts';
import { serfStatus, serfStatusCode, type Member } from '../../gossip/index.ts';
import type { HttpResult } from '../router.ts';
import type { HttpRequest } from '../request.ts';
import { entInput } from '../tenancy.ts';

/** The pool operations the handlers use (the agent's LanPool). */
export interface MemberView {
  members(): Member[];
  localMember(): Member;
  readonly leaving: boolean;
  join(addrs: string[]): Promise<number>;
  /** Null without a gossip pool. */
  readonly gossip: { forceLeave(name: string, prune?: boolean): void } | null;
}

/** The server's WAN pool (Consul's serf WAN); `enabled` is false for clients and with ports.serf_wan = -1. */
export interface WanMemberView {
  readonly enabled: boolean;
  members(): Member[];
  localMember(): Member;
  readonly leaving: boolean;
  join(addrs: string[]): Promise<number>;
  readonly gossip: { forceLeave(name: string, prune?: boolean): void } | null;
}

/** What the handlers need besides the pool. */
export interface MembersDeps {
  pool: MemberView;
  /** The WAN pool; without it a server lists only itself under `?wan`. */
  wan?: WanMemberView;
  nodeName: string;
  datacenter: string;
  server: boolean;
  serfWanPort: number;
  /** The agent's admin partition (absent: default), what a request naming none acts in. */
  partition?: string;
}

/**
 * The LAN partition a request acts in (Consul Enterprise: ?partition= or X-Consul-Partition, else the
 * agent's), folded; `default` for the default one.
 */
function lanPartition(req: HttpRequest, deps: MembersDeps): string {
  return (entInput(req, 'partition').partition || deps.partition || 'default').toLowerCase();
}

/**
 * Whether a member is in the LAN pool of partition `ap`. Proconsul has one LAN pool: a member's
 * partition is its `ap` tag (client agents of another partition carry it), and servers, which
 * Consul Enterprise has in every partition's pool, are listed in each.
 */
export function inLanPartition(m: Member, ap: string): boolean {
  return m.tags.role === 'consul' || (m.tags.ap || 'default') === ap;
}

/** One member as Consul's api.AgentMember JSON; only this agent can be `leaving`. */
export function memberJson(m: Member, leaving = false): Record<string, unknown> {
  return {
    Name: m.name, Addr: m.addr, Port: m.port, Tags: m.tags, Status: serfStatusCode(serfStatus(m, leaving)),
    ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
  };
}

/** Handlers for the membership routes. */
export function membersHandlers(deps: MembersDeps) {
  const { pool } = deps;
  return {
    async members(req: HttpRequest): Promise<HttpResult> {
      const wan = Boolean(req.query.get('wan'));
      const segment = req.query.get('segment') ?? '';
      if (wan && segment !== '' && segment !== '_all') throw new BadRequestError('Cannot provide a segment with wan=true');
      // Every agent is in the default segment (network segments are not implemented): another
      // segment gets the error Consul's own servers and clients give for one they are not in.
      if (!wan && segment !== '' && segment !== '_all') {
        throw new InternalError(deps.server ? 'Network segments are not supported in this version of Consul' : `segment ${JSON.stringify(segment)} not found`);
      }
      if (wan && !deps.server) return { body: [] };
      if (wan && deps.wan?.gossip) {
        const w = deps.wan;
        const self = w.localMember().name;
        return { body: w.members().map((m) => memberJson(m, m.name === self && w.leaving)) };
      }
      // A server without a running WAN pool is the only member of its own.
      if (wan) return { body: [{ ...memberJson(pool.localMember()), Name: `${deps.nodeName}.${deps.datacenter}`, Port: deps.serfWanPort }] };
      const ap = lanPartition(req, deps);
      return { body: pool.members().filter((m) => inLanPartition(m, ap)).map((m) => memberJson(m, m.name === deps.nodeName && pool.leaving)) };
    },
    async join(req: HttpRequest): Promise<HttpResult> {
      const addr = req.params.rest;
      if (!addr) throw new BadRequestError('Missing address');
      // One LAN pool for every partition: a partition named (checked as a DNS label) joins the same pool.
      lanPartition(req, deps);
      const wan = Boolean(req.query.get('wan'));
      try {
        if (wan && !deps.wan?.enabled) throw new Error('Must be a server to join WAN cluster');
        await (wan ? deps.wan!.join([addr]) : pool.join([addr]));
      } catch (err) {
        throw new InternalError((err as Error).message);
      }
      return {};
    },
    async forceLeave(req: HttpRequest): Promise<HttpResult> {
      const node = req.params.rest;
      if (req.query.get('wan')) {
        if (!deps.wan?.enabled) throw new InternalError('Must be a server to force-leave a node from the WAN cluster');
        const w = deps.wan;
        const known = w.members().some((m) => m.name === node);
        if (w.gossip && known && node !== w.localMember().name) w.gossip.forceLeave(node, req.query.has('prune'));
        return {};
      }
      // Only a member of the request's partition (Consul Enterprise's ForceLeave with the partition);
      // a server also removes `<node>.<dc>` from its WAN pool, as Consul's removeFailedNode does.
      const ap = lanPartition(req, deps);
      const prune = req.query.has('prune');
      const known = pool.members().some((m) => m.name === node && inLanPartition(m, ap));
      const w = deps.server && deps.wan?.enabled ? deps.wan : undefined;
      const wanName = `${node}.${deps.datacenter}`;
      const knownWan = Boolean(w?.members().some((m) => m.name === wanName));
      // A name in neither pool is a 500, as current Consul answers (the old armon/consul-api suite expected a no-op).
      if (!known && !knownWan) throw new InternalError(`agent: No node found with name '${node}'`);
      // Removing this agent itself is a no-op: it would refute its own leave.
      if (pool.gossip && known && node !== deps.nodeName) pool.gossip.forceLeave(node, prune);
      if (w?.gossip && knownWan && wanName !== w.localMember().name) w.gossip.forceLeave(wanName, prune);
      return {};
    },
  };
}
