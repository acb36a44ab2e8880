// Autopilot on the leader for a managed etcd cluster (DESIGN §3): promotes a learner once its
// server has been stable for ServerStabilizationTime and etcd accepts it as caught up (one at a
// time, etcd 3.4's limit), removes members whose server is gone past the dead threshold
// (CleanupDeadServers, never below MinQuorum), and publishes the membership for every server.
import type { Clock, TimerHandle } from '../clock.ts';
import { parseGoDuration } from '../duration.ts';
import type { Logger } from '../log.ts';
import type { ManagedMember, Store } from '../store/index.ts';
import { health, readConfig, type AutopilotConfig } from './autopilot.ts';
import type { LeaderElection } from './election-types.ts';
import type { LeaderLoop } from './loops.ts';
import { decodeJson, encodeJson, type ServerRecord } from './servers.ts';

/** Store key of the published etcd membership. */
export const MEMBERSHIP_KEY = 'autopilot/members';

/** The published membership: node name → member id and whether it votes. */
export type Membership = Record<string, { ID: string; Voter: boolean }>;

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
}

/** Reads the published membership (null when no autopilot published one: not managed). */
export async function readMembership(store: Store): Promise<Membership | null> {
  const kv = await store.get(MEMBERSHIP_KEY);
  return kv ? decodeJson<Membership>(kv.value) : null;
}

/**
 * Whether a server votes: not a read replica and, on a managed cluster, a voting etcd member
 * (a server missing from the published membership has not been seen as a member yet).
 */
export function isVoter(s: ServerRecord, membership: Membership | null): boolean {
  return !s.ReadReplica && (membership ? membership[s.Node]?.Voter === true : true);
}

/** The autopilot loop as a leader duty; `pass()` runs one pass (tests). */
export function autopilotLoop(d: AutopilotLoopDeps): LeaderLoop & { pass(): Promise<void> } {
  const lastAlive = new Map<string, number>();
  let published = '';
  let timer: TimerHandle | null = null;
  let running = false;
  const log = d.logger.child({ sub: 'autopilot' });
  const schedule = () => {
    if (!running) return;
    timer = d.clock.setTimer(d.intervalMs ?? 2000, () => {
      pass().catch((err: unknown) => log.warn({ err }, 'autopilot pass failed')).finally(schedule);
    });
  };
  const pass = async () => {
    const cfg = await readConfig(d.store, d.agentConfig());
    const members = await d.admin.members();
    const now = d.clock.now();
    const live = new Map(d.election.servers().map((s) => [s.Node, s]));
    for (const m of members) if ((m.Name && live.has(m.Name)) || !lastAlive.has(m.ID)) lastAlive.set(m.ID, now);
    for (const id of [...lastAlive.keys()]) if (!members.some((m) => m.ID === id)) lastAlive.delete(id);
    const next = JSON.stringify(membershipOf(members));
    if (next !== published) {
      await d.store.txn({ success: [{ type: 'put', key: MEMBERSHIP_KEY, value: encodeJson(JSON.parse(next) as object) }] });
      published = next;
    }
    const stabilizeMs = parseGoDuration(cfg.ServerStabilizationTime) ?? 10_000;
    const deadMs = Math.max(d.deadAfterMs ?? 10_000, stabilizeMs);
    const dead = members.filter((m) => now - (lastAlive.get(m.ID) ?? now) > deadMs);
    if (cfg.CleanupDeadServers && dead.length && (await removeDead(d, log, cfg, members, dead))) return;
    await promoteOne(d, log, cfg, members, live, stabilizeMs, now);
  };
  return {
    name: 'autopilot',
    start: async () => {
      running = true;
      published = '';
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

function membershipOf(members: ManagedMember[]): Membership {
  const out: Membership = {};
  for (const m of [...members].sort((a, b) => (a.Name < b.Name ? -1 : 1))) if (m.Name) out[m.Name] = { ID: m.ID, Voter: !m.Learner };
  return out;
}

type Log = Pick<Logger, 'info' | 'warn' | 'debug'>;

/** Removes one dead member; a voter only if quorum survives (Consul: never when half are dead). */
async function removeDead(d: AutopilotLoopDeps, log: Log, cfg: AutopilotConfig, members: ManagedMember[], dead: ManagedMember[]): Promise<boolean> {
  const voters = members.filter((m) => !m.Learner);
  const deadVoters = dead.filter((m) => !m.Learner);
  for (const m of [...dead.filter((x) => x.Learner), ...deadVoters]) {
    if (!m.Learner) {
      if (voters.length - 1 < Math.max(1, cfg.MinQuorum)) {
        log.info({ member: m.Name, voters: voters.length, minQuorum: cfg.MinQuorum }, 'not removing a dead server: it would go below MinQuorum');
        continue;
      }
      if (deadVoters.length * 2 >= voters.length) {
        log.warn({ dead: deadVoters.map((x) => x.Name), voters: voters.length }, 'not removing dead servers: half or more of the voters are dead');
        return false;
      }
    }
    await d.admin.remove(m.ID);
    log.info({ member: m.Name, id: m.ID, learner: m.Learner }, 'autopilot removed a dead server');
    return true;
  }
  return false;
}

/** Promotes the first stable learner; etcd refuses one that has not caught up (tried again later). */
async function promoteOne(d: AutopilotLoopDeps, log: Log, cfg: AutopilotConfig, members: ManagedMember[], live: Map<string, ServerRecord>, stabilizeMs: number, now: number): Promise<void> {
  const learners = members.filter((m) => m.Learner && m.Name && live.has(m.Name));
  if (learners.length === 0) return;
  const healthy = new Map(health(d.election, cfg, now).Servers.map((s) => [s.Name, s.Healthy]));
  for (const m of learners) {
    const s = live.get(m.Name)!;
    if (now - s.Since < stabilizeMs || !healthy.get(m.Name)) continue;
    try {
      await d.admin.promote(m.ID);
      log.info({ member: m.Name, id: m.ID }, 'autopilot promoted a learner to voter');
      return;
    } catch (err) {
      log.debug({ err, member: m.Name }, 'learner not promoted yet (not caught up)');
    }
  }
}
