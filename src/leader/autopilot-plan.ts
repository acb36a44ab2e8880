// Autopilot's decisions as pure functions (Consul Enterprise's promoter): which servers should
// vote given their health, redundancy zones, upgrade versions and read replicas (desiredRoles),
// and the single next membership step that moves etcd toward that set within 3.4's limits:
// one learner at a time, promote only a caught-up learner, no demotion but removal (nextAction).

/** Consul's AutopilotServerType: what autopilot wants a server to be. */
export type NodeType = 'voter' | 'read-replica' | 'zone-voter' | 'zone-extra-voter' | 'zone-standby';

/** Consul's AutopilotUpgradeStatus. */
export type UpgradeStatus =
  | 'disabled' | 'idle' | 'await-new-voters' | 'promoting' | 'demoting' | 'leader-transfer'
  | 'await-new-servers' | 'await-server-removal';

/** A server as the planner sees it (live servers and etcd members whose server is gone). */
export interface PlanServer {
  ID: string;
  Name: string;
  /** Redundancy zone ('' when none or zones are off). */
  Zone: string;
  /** Upgrade version (the upgrade_version_tag value, else the build version). */
  Version: string;
  ReadReplica: boolean;
  /** Its server record is live. */
  Alive: boolean;
  Healthy: boolean;
  /** Healthy for at least ServerStabilizationTime. */
  Stable: boolean;
  /** Currently a voting etcd member. */
  Voter: boolean;
  /** Currently the Proconsul leader. */
  Leader: boolean;
  /** An etcd member whose server has not registered yet (bootstrap): a voter keeps its vote meanwhile. */
  Starting?: boolean;
}

/** The configuration fields the planner reads. */
export interface PlanConfig {
  RedundancyZoneTag: string;
  DisableUpgradeMigration: boolean;
}

/** Consul's AutopilotUpgrade, by server name (the caller maps names to IDs). */
export interface UpgradeInfo {
  Status: UpgradeStatus;
  TargetVersion: string;
  TargetVersionVoters: string[];
  TargetVersionNonVoters: string[];
  TargetVersionReadReplicas: string[];
  OtherVersionVoters: string[];
  OtherVersionNonVoters: string[];
  OtherVersionReadReplicas: string[];
}

/** What autopilot wants. */
export interface Plan {
  /** Names of the servers that should vote. */
  voters: Set<string>;
  nodeType: Map<string, NodeType>;
  /** Zone → its servers and wanted voters (empty without redundancy zones). */
  zones: Map<string, { servers: string[]; voters: string[] }>;
  upgrade: UpgradeInfo;
  /** Where leadership should move when the leader is not a wanted voter ('' when nowhere). */
  leaderTarget: string;
}

const byName = (a: { Name: string }, b: { Name: string }) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0);

/** Compares dotted versions numerically part by part (`1.10.0` > `1.9.2`), else as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [x, y] = [pa[i] ?? '', pb[i] ?? ''];
    if (x === y) continue;
    const [nx, ny] = [Number(x), Number(y)];
    if (x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny)) return nx - ny;
    // A release sorts after its pre-releases (`1.2.0` > `1.2.0-rc1`): a missing part is greater.
    if (x === '') return 1;
    if (y === '') return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The wanted voters and each server's type. */
export function desiredRoles(servers: PlanServer[], cfg: PlanConfig): Plan {
  const sorted = [...servers].sort(byName);
  const nodeType = new Map<string, NodeType>();
  for (const s of sorted) if (s.ReadReplica) nodeType.set(s.Name, 'read-replica');
  const cands = sorted.filter((s) => !s.ReadReplica);
  const up = upgradePools(sorted, cfg);
  const zoned = cfg.RedundancyZoneTag !== '' && cands.some((s) => s.Zone !== '');
  const zones = new Map<string, { servers: string[]; voters: string[] }>();
  const voters = zoned ? zoneVoters(up.pool, cands, nodeType, zones) : plainVoters(up.pool, cands, nodeType);
  for (const s of cands) if (s.Starting && s.Voter) voters.add(s.Name);
  const upgrade = upgradeInfo(sorted, up, voters);
  const leader = sorted.find((s) => s.Leader);
  let leaderTarget = '';
  if (!leader || !voters.has(leader.Name)) {
    const ok = sorted.filter((s) => voters.has(s.Name) && s.Voter && s.Alive && s.Healthy);
    leaderTarget = ok[0]?.Name ?? '';
  }
  return { voters, nodeType, zones, upgrade, leaderTarget };
}

/** Without zones every server votes once stable (Consul's default promoter); a voter is never demoted. */
function plainVoters(pool: PlanServer[], cands: PlanServer[], nodeType: Map<string, NodeType>): Set<string> {
  for (const s of cands) nodeType.set(s.Name, 'voter');
  return new Set(pool.filter((s) => s.Voter || (s.Alive && s.Healthy && s.Stable)).map((s) => s.Name));
}

/**
 * One voter per redundancy zone: its healthy voter, else its best healthy stable server (a spare
 * takes over when the zone's voter fails). While a zone has no live server, or while fewer than
 * three zones can vote, healthy servers of other zones vote as extra voters (current voters
 * first, then the zone with the most servers) so that a datacenter keeps min(3, healthy) voters;
 * servers without a zone only ever vote as extra voters.
 */
function zoneVoters(pool: PlanServer[], cands: PlanServer[], nodeType: Map<string, NodeType>, zones: Map<string, { servers: string[]; voters: string[] }>): Set<string> {
  const voters = new Set<string>();
  for (const s of cands) {
    nodeType.set(s.Name, 'zone-standby');
    if (!s.Zone) continue;
    const z = zones.get(s.Zone) ?? { servers: [], voters: [] };
    z.servers.push(s.Name);
    zones.set(s.Zone, z);
  }
  let pending = 0;
  for (const [zone, z] of [...zones].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const members = pool.filter((s) => s.Zone === zone);
    const healthy = members.filter((s) => s.Alive && s.Healthy);
    const pick = best(healthy.filter((s) => s.Voter)) ?? best(healthy.filter((s) => s.Stable)) ?? best(members.filter((s) => s.Alive && s.Voter));
    if (pick) {
      voters.add(pick.Name);
      z.voters.push(pick.Name);
      nodeType.set(pick.Name, 'zone-voter');
    } else if (members.some((s) => s.Alive)) {
      // Consul types every server of a zone without a voter as its zone voter until one is promoted.
      pending++;
      for (const s of members) if (s.Alive) nodeType.set(s.Name, 'zone-voter');
    }
  }
  const healthyCount = pool.filter((s) => s.Alive && s.Healthy).length;
  const want = Math.max(zones.size, Math.min(3, healthyCount)) - pending;
  const zoneSize = (s: PlanServer) => (s.Zone ? zones.get(s.Zone)!.servers.length : 0);
  const extras = pool.filter((s) => !voters.has(s.Name) && s.Alive && s.Healthy && (s.Stable || s.Voter))
    .sort((a, b) => Number(b.Voter) - Number(a.Voter) || Number(b.Leader) - Number(a.Leader) || Number(!a.Zone) - Number(!b.Zone) || zoneSize(b) - zoneSize(a) || byName(a, b));
  for (const s of extras) {
    if (voters.size >= want) break;
    voters.add(s.Name);
    if (s.Zone) zones.get(s.Zone)!.voters.push(s.Name);
    nodeType.set(s.Name, 'zone-extra-voter');
  }
  return voters;
}

/** The leader first, then a current voter, then by name. */
function best(list: PlanServer[]): PlanServer | undefined {
  return [...list].sort((a, b) => Number(b.Leader) - Number(a.Leader) || Number(b.Voter) - Number(a.Voter) || byName(a, b))[0];
}

interface UpgradePools {
  status: UpgradeStatus;
  target: string;
  /** The servers that may vote: the target version's once enough of them are there, the others' until then. */
  pool: PlanServer[];
}

/**
 * Upgrade migration: servers of the highest version wait as non-voters until they are at least
 * as many (healthy) as the voters of other versions and, with zones, cover every zone that has
 * such a voter; from then on only they may vote, so the others are demoted once they are in.
 */
function upgradePools(sorted: PlanServer[], cfg: PlanConfig): UpgradePools {
  const cands = sorted.filter((s) => !s.ReadReplica);
  if (cfg.DisableUpgradeMigration) return { status: 'disabled', target: '', pool: cands };
  const alive = sorted.filter((s) => s.Alive);
  const target = alive.map((s) => s.Version).reduce((m, v) => (compareVersions(v, m) > 0 ? v : m), alive[0]?.Version ?? '');
  if (alive.every((s) => s.Version === target) && cands.every((s) => s.Version === target || !s.Voter)) {
    return { status: 'idle', target, pool: cands };
  }
  const newer = cands.filter((s) => s.Version === target);
  const older = cands.filter((s) => s.Version !== target);
  const oldVoters = older.filter((s) => s.Voter);
  const ready = newer.filter((s) => s.Alive && s.Healthy && (s.Stable || s.Voter));
  const zonesCovered = cfg.RedundancyZoneTag === '' || oldVoters.every((o) => !o.Zone || ready.some((n) => n.Zone === o.Zone));
  if (oldVoters.length > 0 && (ready.length < oldVoters.length || !zonesCovered)) return { status: 'await-new-voters', target, pool: older };
  return { status: 'promoting', target, pool: newer };
}

function upgradeInfo(sorted: PlanServer[], up: UpgradePools, voters: Set<string>): UpgradeInfo {
  const names = (f: (s: PlanServer) => boolean) => sorted.filter((s) => s.Alive || s.Voter).filter(f).map((s) => s.Name);
  const t = (s: PlanServer) => s.Version === up.target;
  const info: UpgradeInfo = {
    Status: up.status, TargetVersion: up.status === 'disabled' ? '' : up.target,
    TargetVersionVoters: names((s) => t(s) && !s.ReadReplica && s.Voter),
    TargetVersionNonVoters: names((s) => t(s) && !s.ReadReplica && !s.Voter),
    TargetVersionReadReplicas: names((s) => t(s) && s.ReadReplica),
    OtherVersionVoters: names((s) => !t(s) && !s.ReadReplica && s.Voter),
    OtherVersionNonVoters: names((s) => !t(s) && !s.ReadReplica && !s.Voter),
    OtherVersionReadReplicas: names((s) => !t(s) && s.ReadReplica),
  };
  if (up.status !== 'promoting') return info;
  const leader = sorted.find((s) => s.Leader);
  const missing = [...voters].some((n) => !sorted.find((s) => s.Name === n)?.Voter);
  if (missing) info.Status = 'promoting';
  else if (leader && !t(leader)) info.Status = 'leader-transfer';
  else if (info.OtherVersionVoters.length) info.Status = 'demoting';
  else if (info.TargetVersionVoters.length + info.TargetVersionNonVoters.length < info.OtherVersionNonVoters.length) info.Status = 'await-new-servers';
  else if (info.OtherVersionNonVoters.length + info.OtherVersionReadReplicas.length) info.Status = 'await-server-removal';
  else info.Status = 'idle';
  return info;
}

/** An etcd member as the actuator sees it. */
export interface PlanMember {
  ID: string;
  /** Server (node) name; '' for a member that never started. */
  Name: string;
  Learner: boolean;
  /** No live server for longer than the dead threshold. */
  Dead: boolean;
}

/** The next membership step. */
export type Action =
  | { kind: 'remove'; id: string; name: string; why: 'dead' | 'demote' | 'evict' }
  | { kind: 'promote'; id: string; name: string }
  | { kind: 'join'; name: string }
  | { kind: 'transfer'; name: string }
  | { kind: 'none'; why: string };

/** What nextAction decides on. */
export interface ActionInput {
  plan: Plan;
  servers: PlanServer[];
  members: PlanMember[];
  cleanupDeadServers: boolean;
  minQuorum: number;
  /** A server asked to join as a learner that has not yet (and may still). */
  pendingJoin: string;
}

/**
 * Removes one dead member; a voter only when quorum survives and MinQuorum holds (Consul: never
 * when half are dead). As in Consul, a failed server (gone, not merely starting) is also removed
 * before the dead threshold when a replacement waits to vote.
 */
function deadStep(i: ActionInput): Action | null {
  if (!i.cleanupDeadServers) return null;
  const voters = i.members.filter((m) => !m.Learner);
  const srv = new Map(i.servers.map((s) => [s.Name, s]));
  const named = new Set(i.members.map((m) => m.Name));
  const replacing = [...i.plan.voters].some((n) => srv.get(n)?.Alive && (!named.has(n) || i.members.find((m) => m.Name === n)?.Learner));
  const failed = (m: PlanMember) => m.Dead || (replacing && m.Name !== '' && srv.get(m.Name)?.Alive === false);
  const dead = i.members.filter(failed);
  const deadVoters = dead.filter((m) => !m.Learner);
  const learner = dead.find((m) => m.Learner);
  if (learner) return { kind: 'remove', id: learner.ID, name: learner.Name, why: 'dead' };
  if (deadVoters.length === 0 || deadVoters.length * 2 >= voters.length) return null;
  if (voters.length - 1 < Math.max(1, i.minQuorum)) return null;
  return { kind: 'remove', id: deadVoters[0].ID, name: deadVoters[0].Name, why: 'dead' };
}

/** Removes the first unwanted voter matching `which` if the healthy rest keeps quorum; null when there is none. */
function demotion(i: ActionInput, votingMembers: PlanMember[], srv: Map<string, PlanServer>, which: (m: PlanMember) => boolean): Action | null {
  const demote = votingMembers.filter((m) => !i.plan.voters.has(m.Name) && which(m))
    .sort((a, b) => Number(b.Dead) - Number(a.Dead) || byName(a, b))[0];
  if (!demote) return null;
  const rest = votingMembers.filter((m) => m !== demote);
  const healthy = rest.filter((m) => srv.get(m.Name)?.Alive && srv.get(m.Name)?.Healthy).length;
  if (srv.get(demote.Name)?.Leader) return { kind: 'none', why: `not demoting ${demote.Name}: it leads` };
  if (rest.length >= 1 && healthy >= Math.floor(rest.length / 2) + 1) return { kind: 'remove', id: demote.ID, name: demote.Name, why: 'demote' };
  return { kind: 'none', why: `not demoting ${demote.Name}: the rest would lose quorum` };
}

/**
 * The one step to take now, in Consul's order: clean up the dead, keep leadership on a voter,
 * promote wanted voters (a non-member first joins as the one learner, evicting a standby that
 * holds the slot), move leadership to a wanted voter, demote the unwanted while the healthy
 * remainder keeps quorum, and finally keep a standby warm in the learner slot.
 */
export function nextAction(i: ActionInput): Action {
  const dead = deadStep(i);
  if (dead) return dead;
  const srv = new Map(i.servers.map((s) => [s.Name, s]));
  const member = new Map(i.members.filter((m) => m.Name).map((m) => [m.Name, m]));
  const votingMembers = i.members.filter((m) => !m.Learner);
  const learner = i.members.find((m) => m.Learner);
  const leader = i.servers.find((s) => s.Leader);
  const want = [...i.plan.voters].map((n) => srv.get(n)).filter((s): s is PlanServer => s !== undefined).sort(byName);
  if (leader && !leader.Voter && i.plan.leaderTarget) return { kind: 'transfer', name: i.plan.leaderTarget };
  // An unwanted voter that is down goes first: etcd refuses to add members while a voter is
  // unreachable, and removing it keeps the same fault tolerance.
  const downVoter = demotion(i, votingMembers, srv, (m) => !srv.get(m.Name)?.Alive || !srv.get(m.Name)?.Healthy);
  if (downVoter?.kind === 'remove') return downVoter;
  for (const s of want) {
    const m = member.get(s.Name);
    if (m?.Learner && s.Alive && s.Healthy && s.Stable) return { kind: 'promote', id: m.ID, name: s.Name };
  }
  const joiner = want.find((s) => !member.has(s.Name) && s.Alive && s.Healthy && s.Stable);
  if (joiner) {
    // A wanted voter's call replaces a standby's that has not joined yet.
    const waiting = i.pendingJoin && i.plan.voters.has(i.pendingJoin);
    if (!learner) return waiting ? { kind: 'none', why: `waiting for ${i.pendingJoin} to join` } : { kind: 'join', name: joiner.Name };
    // A learner without a name has been added but not started yet (a joiner on its way): never
    // evict it for that; if it never starts, dead-server cleanup removes it.
    if (!learner.Name) return { kind: 'none', why: 'waiting for the new learner to start' };
    if (!i.plan.voters.has(learner.Name)) return { kind: 'remove', id: learner.ID, name: learner.Name, why: 'evict' };
  }
  if (want.some((s) => !member.get(s.Name) || member.get(s.Name)!.Learner)) return { kind: 'none', why: 'waiting for wanted voters' };
  if (leader && !i.plan.voters.has(leader.Name) && i.plan.leaderTarget) return { kind: 'transfer', name: i.plan.leaderTarget };
  const demote = demotion(i, votingMembers, srv, () => true);
  if (demote) return demote;
  const rr = learner && srv.get(learner.Name)?.ReadReplica;
  if (rr) return { kind: 'remove', id: learner.ID, name: learner.Name, why: 'evict' };
  // etcd adds no member while a voter is unreachable: no warm standby until they are all up.
  const votersUp = votingMembers.every((m) => srv.get(m.Name)?.Alive && !srv.get(m.Name)?.Starting);
  if (!learner && !i.pendingJoin && votersUp) {
    const standby = i.servers.filter((s) => !s.ReadReplica && s.Alive && s.Healthy && !member.has(s.Name)).sort(byName)[0];
    if (standby) return { kind: 'join', name: standby.Name };
  }
  return { kind: 'none', why: 'settled' };
}
