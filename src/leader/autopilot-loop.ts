// Autopilot on the leader for a managed etcd cluster (DESIGN §3): each pass reads the etcd
// members and the live servers, publishes the membership for every server, asks the planner
// (autopilot-plan.ts) for the wanted voters and the one next step, and takes it: promote a
// caught-up learner, remove a dead, demoted or evicted member, call a non-member server in as the
// learner (through `autopilot/join`, which that server follows), or hand leadership over.
import { createRequire } from 'node:module';
import type { Clock, TimerHandle } from '../clock.ts';
import { parseGoDuration } from '../duration.ts';
import type { Logger } from '../log.ts';
import type { ManagedMember, Store } from '../store/index.ts';
import { health, planServers, readConfig, type AutopilotConfig } from './autopilot.ts';
import type { Action, PlanMember } from './autopilot-plan.ts';
import type { LeaderElection } from './election-types.ts';
import type { LeaderLoop } from './loops.ts';
import { decodeJson, encodeJson, type ServerRecord } from './servers.ts';

// The planner loads with the first pass (managed stores only), not with the membership reads
// every server's metrics make (issue #9).
const require = createRequire(import.meta.url);

/** Store key of the published etcd membership. */
export const MEMBERSHIP_KEY = 'autopilot/members';
/** Store key naming the non-member server autopilot wants as the etcd learner. */
export const JOIN_KEY = 'autopilot/join';

/** The published membership: node name → member id, whether it votes, and its zone and upgrade version. */
export type Membership = Record<string, { ID: string; Voter: boolean; Learner?: boolean; Zone?: string; Version?: string; Seen?: boolean }>;

/** The value of JOIN_KEY. */
export interface JoinRequest { Node: string; At: number }

/** The membership operations autopilot needs (ManagedEtcdStore provides them). */
export interface MemberAdmin {
  members(): Promise<ManagedMember[]>;
  promote(id: string): Promise<void>;
  remove(id: string): Promise<void>;
}

/** Dependencies of the loop. */
export interface AutopilotLoopDeps {
  admin: MemberAdmin;
  election: LeaderElection;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The agent's autopilot block (applies until an operator writes a configuration). */
  agentConfig: () => AutopilotConfig;
  /** Pass interval (default 2 s). */
  intervalMs?: number;
  /** A member is dead after max(this, ServerStabilizationTime) without a live server (default 10 s). */
  deadAfterMs?: number;
  /** A server called in as the learner that has not joined after this long may be replaced (default 20 s). */
  joinTimeoutMs?: number;
}

/** Reads the published membership (null when no autopilot published one: not managed). */
export async function readMembership(store: Store): Promise<Membership | null> {
  const kv = await store.get(MEMBERSHIP_KEY);
  return kv ? decodeJson<Membership>(kv.value) : null;
}

/**
 * The membership the operator endpoints show: the published one, else (a managed cluster whose
 * autopilot has not published yet: a leader's first pass after formation) etcd's own member list,
 * so that a server that is not a voting member is not shown as a voter meanwhile. Null on a store
 * without etcd members (every server votes), or when etcd does not answer.
 */
export async function membershipNow(store: Store): Promise<Membership | null> {
  const published = await readMembership(store);
  const admin = store as Partial<Pick<MemberAdmin, 'members'>>;
  if (published || typeof admin.members !== 'function') return published;
  // etcd not answering: as before autopilot's first pass (every server counted a voter).
  const members = await admin.members().catch(() => null);
  if (!members) return null;
  const out: Membership = {};
  for (const m of members) if (m.Name) out[m.Name] = { ID: m.ID, Voter: !m.Learner, Learner: m.Learner };
  return out;
}

/**
 * Whether a server votes: not a read replica and, on a managed cluster, a voting etcd member
 * (a server missing from the published membership is not a member: a non-voter).
 */
export function isVoter(s: ServerRecord, membership: Membership | null): boolean {
  return !s.ReadReplica && (membership ? membership[s.Node]?.Voter === true : true);
}

/** The autopilot loop as a leader duty; `pass()` runs one pass and returns the step taken (tests). */
export function autopilotLoop(d: AutopilotLoopDeps): LeaderLoop & { pass(): Promise<Action> } {
  const lastAlive = new Map<string, number>();
  // Members whose server was live at some pass: when it is gone they count as down at once.
  const everLive = new Set<string>();
  const unhealthySince = new Map<string, number>();
  let published = '';
  let known: Membership = {};
  let pending: JoinRequest | null = null;
  let timer: TimerHandle | null = null;
  let running = false;
  /** Whether the last promotion was accepted (etcd refuses a learner that has not caught up). */
  let promoted = false;
  const log = d.logger.child({ sub: 'autopilot' });
  // After a step the next pass comes sooner: migrations are chains of single steps.
  const schedule = (acted = false) => {
    if (!running) return;
    timer = d.clock.setTimer(acted ? 500 : d.intervalMs ?? 2000, () => {
      pass().then((a) => schedule(a.kind !== 'none' && !(a.kind === 'promote' && !promoted)), (err: unknown) => {
        log.warn({ err }, 'autopilot pass failed');
        schedule();
      });
    });
  };
  const pass = async (): Promise<Action> => {
    const cfg = await readConfig(d.store, d.agentConfig());
    const members = await d.admin.members();
    const now = d.clock.now();
    const live = new Map(d.election.servers().map((s) => [s.Node, s]));
    for (const m of members) if ((m.Name && live.has(m.Name)) || !lastAlive.has(m.ID)) lastAlive.set(m.ID, now);
    for (const m of members) if (m.Name && live.has(m.Name)) everLive.add(m.ID);
    for (const id of [...lastAlive.keys()]) if (!members.some((m) => m.ID === id)) { lastAlive.delete(id); everLive.delete(id); }
    const membership = membershipOf(members, live, cfg, known, everLive);
    known = membership;
    const next = JSON.stringify(membership);
    if (next !== published) {
      await d.store.txn({ success: [{ type: 'put', key: MEMBERSHIP_KEY, value: encodeJson(membership) }] });
      published = next;
    }
    if (pending && (members.some((m) => m.Name === pending!.Node) || !live.has(pending.Node) || now - pending.At > (d.joinTimeoutMs ?? 20_000))) pending = null;
    const stabilizeMs = parseGoDuration(cfg.ServerStabilizationTime) ?? 10_000;
    const deadMs = Math.max(d.deadAfterMs ?? 10_000, stabilizeMs);
    const h = health(d.election, cfg, now, (s) => isVoter(s, membership));
    const planMembers: PlanMember[] = members.map((m) => ({ ID: m.ID, Name: m.Name, Learner: m.Learner, Dead: now - (lastAlive.get(m.ID) ?? now) > deadMs }));
    // A member whose server never registered yet (starting) is given until the dead threshold.
    const unseen = new Set(planMembers.filter((m) => m.Name && !m.Dead && !live.has(m.Name) && !everLive.has(m.ID)).map((m) => m.Name));
    const servers = planServers(d.election, h, cfg, membership, now, unseen).map((x) => {
      // A live voter is only replaced after it stayed unhealthy for ServerStabilizationTime: a
      // late status record must not swap a zone's voter.
      if (x.Healthy || !x.Alive) unhealthySince.delete(x.Name);
      else if (!unhealthySince.has(x.Name)) unhealthySince.set(x.Name, now);
      const brief = !x.Healthy && x.Alive && x.Voter && !x.Starting && now - (unhealthySince.get(x.Name) ?? now) < stabilizeMs;
      return brief ? { ...x, Healthy: true } : x;
    });
    const { desiredRoles, nextAction } = require('./autopilot-plan.ts') as typeof import('./autopilot-plan.ts');
    const plan = desiredRoles(servers, cfg);
    const action = nextAction({ plan, servers, members: planMembers, cleanupDeadServers: cfg.CleanupDeadServers, minQuorum: cfg.MinQuorum, pendingJoin: pending?.Node ?? '' });
    await act(action, servers.find((s) => s.Name === (action as { name?: string }).name)?.ID ?? '');
    return action;
  };
  const act = async (a: Action, serverId: string) => {
    switch (a.kind) {
      case 'remove':
        await d.admin.remove(a.id);
        log.info({ member: a.name, id: a.id, why: a.why }, 'autopilot removed an etcd member');
        return;
      case 'promote':
        promoted = false;
        try {
          await d.admin.promote(a.id);
          promoted = true;
          log.info({ member: a.name, id: a.id }, 'autopilot promoted a learner to voter');
        } catch (err) {
          log.debug({ err, member: a.name }, 'learner not promoted yet (not caught up)');
        }
        return;
      case 'join':
        pending = { Node: a.name, At: d.clock.now() };
        await d.store.txn({ success: [{ type: 'put', key: JOIN_KEY, value: encodeJson(pending) }] });
        log.info({ server: a.name }, 'autopilot called a server in as the etcd learner');
        return;
      case 'transfer':
        await d.election.transfer(serverId);
        log.info({ to: a.name }, 'autopilot moved leadership');
        return;
      case 'none':
        log.debug({ why: a.why }, 'autopilot: nothing to do');
    }
  };
  return {
    name: 'autopilot',
    start: async () => {
      running = true;
      published = '';
      known = (await readMembership(d.store).catch(() => null)) ?? {};
      // A previous leader saw these servers live: gone now, they are down, not starting.
      for (const m of Object.values(known)) if (m.Seen) everLive.add(m.ID);
      await pass().catch((err: unknown) => log.warn({ err }, 'autopilot pass failed'));
      schedule();
    },
    stop: () => {
      running = false;
      timer?.cancel();
    },
    pass,
  };
}

/** Members by node name, with the zone and version of their server (remembered while it is gone). */
function membershipOf(members: ManagedMember[], live: Map<string, ServerRecord>, cfg: AutopilotConfig, known: Membership, everLive: Set<string>): Membership {
  const out: Membership = {};
  for (const m of [...members].sort((a, b) => (a.Name < b.Name ? -1 : 1))) {
    if (!m.Name) continue;
    const s = live.get(m.Name);
    const zone = s ? (cfg.RedundancyZoneTag ? s.Tags[cfg.RedundancyZoneTag] ?? '' : '') : known[m.Name]?.Zone ?? '';
    const version = s ? (cfg.UpgradeVersionTag && s.Tags[cfg.UpgradeVersionTag]) || s.Version : known[m.Name]?.Version ?? '';
    out[m.Name] = { ID: m.ID, Voter: !m.Learner, Learner: m.Learner, Zone: zone, Version: version, Seen: everLive.has(m.ID) };
  }
  return out;
}
