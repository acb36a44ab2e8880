// Autopilot's view of the servers (Consul's /v1/operator/autopilot/*): the configuration,
// stored once in `autopilot/config` (the agent's `autopilot` block applies until an operator
// writes one), and server health computed from the election's live server records.
import { createRequire } from 'node:module';
import { formatGoDuration, parseGoDuration } from '../duration.ts';
import { BadRequestError } from '../errors.ts';
import type { Store } from '../store/index.ts';
import type { LeaderElection } from './election-types.ts';
import type { ServerRecord } from './servers.ts';
import type { PlanServer } from './autopilot-plan.ts';
import type { Membership } from './autopilot-loop.ts';

// The planner (autopilot-plan.ts) is loaded by the first state read or managed-mode pass, not at
// start (issue #9); with require, as state() is synchronous.
const require = createRequire(import.meta.url);

/** Store key of the operator-written autopilot configuration. */
export const AUTOPILOT_KEY = 'autopilot/config';

/** Consul's AutopilotConfiguration as the API shows it. */
export interface AutopilotConfig {
  CleanupDeadServers: boolean;
  LastContactThreshold: string;
  MaxTrailingLogs: number;
  MinQuorum: number;
  ServerStabilizationTime: string;
  RedundancyZoneTag: string;
  DisableUpgradeMigration: boolean;
  UpgradeVersionTag: string;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Consul's ServerHealth. */
export interface ServerHealth {
  ID: string; Name: string; Address: string; SerfStatus: string; Version: string; Leader: boolean;
  LastContact: string; LastTerm: number; LastIndex: number; Healthy: boolean; Voter: boolean; StableSince: string;
}

/** Consul's OperatorHealthReply. */
export interface HealthReply {
  Healthy: boolean;
  FailureTolerance: number;
  Servers: ServerHealth[];
}

const str = (v: unknown, d: string) => (typeof v === 'string' ? v : typeof v === 'number' ? formatGoDuration(v) : d);

/** The configuration from the agent's `autopilot` block, with Consul's defaults. */
export function configFromAgent(raw: Record<string, unknown> | undefined): AutopilotConfig {
  const a = raw ?? {};
  return {
    CleanupDeadServers: a.cleanup_dead_servers !== false,
    LastContactThreshold: str(a.last_contact_threshold, '200ms'),
    MaxTrailingLogs: typeof a.max_trailing_logs === 'number' ? a.max_trailing_logs : 250,
    MinQuorum: typeof a.min_quorum === 'number' ? a.min_quorum : 0,
    ServerStabilizationTime: str(a.server_stabilization_time, '10s'),
    RedundancyZoneTag: str(a.redundancy_zone_tag, ''),
    DisableUpgradeMigration: a.disable_upgrade_migration === true,
    UpgradeVersionTag: str(a.upgrade_version_tag, ''),
    CreateIndex: 0, ModifyIndex: 0,
  };
}

/** Reads the stored configuration, or the agent's when none was written yet. */
export async function readConfig(store: Store, agentDefault: AutopilotConfig): Promise<AutopilotConfig> {
  const kv = await store.get(AUTOPILOT_KEY);
  if (!kv) return agentDefault;
  const rec = JSON.parse(Buffer.from(kv.value).toString()) as AutopilotConfig;
  return { ...rec, CreateIndex: kv.createRevision, ModifyIndex: kv.modRevision };
}

/** The Go type of each plain field of Consul's api.AutopilotConfiguration (durations apart). */
const GO_TYPES: Partial<Record<keyof AutopilotConfig, 'bool' | 'uint64' | 'uint' | 'string'>> = {
  CleanupDeadServers: 'bool', MaxTrailingLogs: 'uint64', MinQuorum: 'uint', RedundancyZoneTag: 'string',
  DisableUpgradeMigration: 'bool', UpgradeVersionTag: 'string', CreateIndex: 'uint64', ModifyIndex: 'uint64',
};

/** encoding/json's error for a value of the wrong type, or null when `v` fits the field. */
function typeError(key: keyof AutopilotConfig, v: unknown): string | null {
  const want = GO_TYPES[key];
  if (!want || v === null || v === undefined) return null;
  const kind = typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? 'number' : typeof v === 'string' ? 'string' : Array.isArray(v) ? 'array' : 'object';
  const fits = want === 'bool' ? kind === 'bool' : want === 'string' ? kind === 'string' : kind === 'number' && Number.isInteger(v) && (v as number) >= 0;
  if (fits) return null;
  // Go names the number only when it was bound for an integer field it does not fit.
  const what = kind === 'number' && want.startsWith('uint') ? `number ${String(v)}` : kind;
  return `json: cannot unmarshal ${what} into Go struct field AutopilotConfiguration.${key} of type ${want}`;
}

/**
 * Validates a PUT body (field names case-insensitive) into a configuration. Consul decodes it over
 * api.NewAutopilotConfiguration(), so `base` is those defaults: a field left out is reset, not kept.
 */
export function decodeConfig(body: Record<string, unknown>, base: AutopilotConfig = configFromAgent(undefined)): AutopilotConfig {
  const lower = new Map(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
  const out = { ...base };
  for (const key of Object.keys(base) as (keyof AutopilotConfig)[]) {
    const v = lower.get(key.toLowerCase());
    const bad = typeError(key, v);
    if (bad) throw new BadRequestError(`Error parsing autopilot config: ${bad}`);
    if (v === undefined || v === null || key === 'CreateIndex' || key === 'ModifyIndex') continue;
    if (key === 'LastContactThreshold' || key === 'ServerStabilizationTime') {
      const ms = typeof v === 'number' ? v / 1e6 : parseGoDuration(String(v));
      if (ms === null) throw new BadRequestError(`Error parsing autopilot config: invalid duration ${JSON.stringify(v)}`);
      out[key] = formatGoDuration(ms);
    } else (out as Record<string, unknown>)[key] = v;
  }
  return out;
}

/** Writes the configuration; with `cas` only if its ModifyIndex still matches (false otherwise). */
export async function writeConfig(store: Store, cfg: AutopilotConfig, cas?: number): Promise<boolean> {
  const { CreateIndex: _c, ModifyIndex: _m, ...rec } = cfg;
  const res = await store.txn({
    compares: cas === undefined ? [] : [{ key: AUTOPILOT_KEY, target: 'modRevision', op: '=', value: cas }],
    success: [{ type: 'put', key: AUTOPILOT_KEY, value: Buffer.from(JSON.stringify(rec)) }],
  });
  return res.succeeded;
}

/**
 * Health of every live server. A follower is healthy when its status record is fresh (written
 * within two status periods) and its reported last contact is within the threshold plus one
 * heartbeat: the leader heartbeats every TTL/3, not at Raft's millisecond pace.
 */
export function health(election: LeaderElection, cfg: AutopilotConfig, now: number, voter: (s: ServerRecord) => boolean = (s) => !s.ReadReplica): HealthReply {
  const leader = election.leader();
  const beat = election.heartbeatMs();
  const threshold = (parseGoDuration(cfg.LastContactThreshold) ?? 200) + beat;
  const servers = election.servers().map((s) => ({ ...serverHealth(s, s.Lease === leader?.Lease, election, threshold, now), Voter: voter(s) }));
  const voters = servers.filter((s) => s.Voter);
  const quorum = Math.floor(voters.length / 2) + 1;
  const healthyVoters = voters.filter((s) => s.Healthy).length;
  return {
    Healthy: servers.every((s) => s.Healthy) && leader !== null,
    FailureTolerance: Math.max(0, healthyVoters - quorum),
    Servers: servers,
  };
}

function serverHealth(s: ServerRecord, isLeader: boolean, election: LeaderElection, threshold: number, now: number): ServerHealth {
  const self = s.Node === election.self().Node;
  const lastContact = isLeader ? 0 : self ? election.lastContactMs() : s.LastContactMs;
  // Followers rewrite their record every third heartbeat (see election.ts).
  const fresh = isLeader || self || election.heartbeatMs() === 0 || now - s.StatusAt <= 6 * election.heartbeatMs();
  return {
    ID: s.ID, Name: s.Node, Address: s.Address, SerfStatus: 'alive', Version: s.Version, Leader: isLeader,
    LastContact: formatGoDuration(lastContact), LastTerm: election.term(), LastIndex: s.LastIndex,
    Healthy: fresh && lastContact <= threshold, Voter: !s.ReadReplica,
    StableSince: new Date(s.Since || now).toISOString(),
  };
}

/** The node meta among a server record's tags (without the role, dc, port and id it adds). */
function nodeMeta(tags: Record<string, string>): Record<string, string> {
  const { role: _r, dc: _d, port: _p, id: _i, ...meta } = tags;
  return meta;
}

/** A server's redundancy zone and upgrade version under the configuration. */
export function zoneAndVersion(s: ServerRecord, cfg: AutopilotConfig): { zone: string; version: string } {
  return {
    zone: cfg.RedundancyZoneTag ? s.Tags[cfg.RedundancyZoneTag] ?? '' : '',
    version: (cfg.UpgradeVersionTag && s.Tags[cfg.UpgradeVersionTag]) || s.Version,
  };
}

/**
 * The planner's view: every live server with its health and stability, plus the etcd members
 * whose server is gone (zone and version as last published). Members in `unseen` have no live
 * server but are not dead yet (starting, or briefly without a record): they count as alive and
 * unhealthy, so a voter is only replaced when a healthy spare exists, never dropped outright.
 */
export function planServers(election: LeaderElection, h: HealthReply, cfg: AutopilotConfig, membership: Membership | null, now: number, unseen: Set<string> = new Set()): PlanServer[] {
  const stabilizeMs = parseGoDuration(cfg.ServerStabilizationTime) ?? 10_000;
  const byId = new Map(h.Servers.map((x) => [x.ID, x]));
  const out: PlanServer[] = election.servers().map((s) => {
    const sh = byId.get(s.ID);
    const { zone, version } = zoneAndVersion(s, cfg);
    const healthy = sh?.Healthy ?? false;
    return {
      ID: s.ID, Name: s.Node, Zone: zone, Version: version, ReadReplica: s.ReadReplica, Alive: true, Healthy: healthy,
      Stable: healthy && now - (s.Since || now) >= stabilizeMs, Voter: sh?.Voter ?? false, Leader: sh?.Leader ?? false,
    };
  });
  for (const [name, m] of Object.entries(membership ?? {})) {
    if (out.some((s) => s.Name === name)) continue;
    out.push({ ID: m.ID, Name: name, Zone: m.Zone ?? '', Version: m.Version ?? '', ReadReplica: false, Alive: unseen.has(name), Healthy: false, Stable: false, Voter: m.Voter, Leader: false, Starting: unseen.has(name) });
  }
  return out;
}

/** Consul's AutopilotState (with Consul Enterprise's zones, read replicas and upgrade), from the live servers' health. */
export function state(election: LeaderElection, h: HealthReply, cfg: AutopilotConfig, membership: Membership | null, now: number): Record<string, unknown> {
  const ps = planServers(election, h, cfg, membership, now);
  const { desiredRoles } = require('./autopilot-plan.ts') as typeof import('./autopilot-plan.ts');
  const plan = desiredRoles(ps, cfg);
  const idOf = new Map(ps.map((s) => [s.Name, s.ID]));
  const ids = (names: string[]) => names.map((n) => idOf.get(n) ?? n);
  const servers: Record<string, unknown> = {};
  for (const s of h.Servers) {
    const rec = election.servers().find((x) => x.ID === s.ID);
    const p = ps.find((x) => x.ID === s.ID);
    servers[s.ID] = {
      ID: s.ID, Name: s.Name, Address: s.Address, NodeStatus: s.SerfStatus, Version: s.Version,
      LastContact: s.LastContact, LastTerm: s.LastTerm, LastIndex: s.LastIndex, Healthy: s.Healthy, StableSince: s.StableSince,
      ...(p?.Zone ? { RedundancyZone: p.Zone } : {}), ...(p && cfg.UpgradeVersionTag ? { UpgradeVersion: p.Version } : {}),
      ReadReplica: rec?.ReadReplica ?? false, Status: s.Leader ? 'leader' : s.Voter ? 'voter' : 'non-voter',
      Meta: nodeMeta(rec?.Tags ?? {}), NodeType: plan.nodeType.get(s.Name) ?? 'voter',
    };
  }
  const leader = h.Servers.find((s) => s.Leader);
  const voters = h.Servers.filter((s) => s.Voter);
  const quorum = Math.floor(voters.length / 2) + 1;
  const healthyEligible = ps.filter((s) => s.Alive && s.Healthy && !s.ReadReplica).length;
  const replicas = ps.filter((s) => s.Alive && s.ReadReplica).map((s) => s.ID);
  const zones: Record<string, unknown> = {};
  for (const [name, z] of plan.zones) {
    const inZone = ps.filter((s) => s.Zone === name && !s.ReadReplica);
    zones[name] = {
      Servers: ids(z.servers), Voters: inZone.filter((s) => s.Voter).map((s) => s.ID),
      FailureTolerance: Math.max(0, inZone.filter((s) => s.Alive && s.Healthy).length - 1),
    };
  }
  const u = plan.upgrade;
  const upgrade = {
    Status: u.Status, ...(u.TargetVersion ? { TargetVersion: u.TargetVersion } : {}),
    ...Object.fromEntries((['TargetVersionVoters', 'TargetVersionNonVoters', 'TargetVersionReadReplicas', 'OtherVersionVoters', 'OtherVersionNonVoters', 'OtherVersionReadReplicas'] as const)
      .filter((k) => u[k].length > 0).map((k) => [k, ids(u[k])])),
  };
  return {
    Healthy: h.Healthy, FailureTolerance: h.FailureTolerance,
    OptimisticFailureTolerance: Math.max(0, healthyEligible - quorum),
    Servers: servers, Leader: leader?.ID ?? '', Voters: voters.map((s) => s.ID),
    ...(replicas.length ? { ReadReplicas: replicas } : {}),
    ...(plan.zones.size ? { RedundancyZones: zones } : {}),
    Upgrade: upgrade,
  };
}
