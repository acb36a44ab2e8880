// ACLs of a secondary datacenter's server, wired once: the leader's replication duty (with
// Consul's leader.replication.acl-* gauges), secrets not held here resolved in the primary
// (acl.token_ttl, acl.down_policy), and the route table sending ACL requests where Consul does.
import { ANONYMOUS_TOKEN_SECRET, isACLNotFound, type ACLReplicationStatus } from '../acl/index.ts';
import type { RemoteAnswer } from '../endpoint/acl-remote.ts';
import { durationSetting } from '../duration.ts';
import type { AclResolver, EndpointDeps } from '../endpoint/index.ts';
import { RemoteTokens } from '../endpoint/acl-remote.ts';
import type { RequestConfig, Router } from '../http/index.ts';
import { AclReplication, type ReplicationKind } from '../leader/acl-replication.ts';
import type { LeaderLoops } from '../leader/loops.ts';
import type { Telemetry } from '../telemetry/metrics.ts';
import { tokenCacheStats } from './acl-metrics.ts';
import { aclPrimaryRouter, preparingRouter } from './acl-primary-routes.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { callPrimary, type PrimaryForwardDeps } from './primary-forward.ts';
import { ACL_RPC_PATH, type TokenGrants } from './rpc-server.ts';

/** acl.enable_token_replication: a secondary keeps global tokens (and may hold local ones). */
export function tokenReplication(config: RuntimeConfig): boolean {
  return (config.raw.acl as Record<string, unknown> | undefined)?.enable_token_replication === true;
}

/** What a secondary's ACL wiring needs. */
export interface SecondaryAclDeps {
  primary: PrimaryForwardDeps;
  config: RuntimeConfig;
  epDeps: EndpointDeps;
  resolver: AclResolver;
  /** acl.tokens.replication, read live. */
  replicationToken: () => string;
  loops: LeaderLoops;
  telemetry: Telemetry;
  /** The leader's internal RPC address when another server leads ('' when this one does or none is known). */
  otherLeader: () => string;
  reqCfg: RequestConfig;
}

/** A secondary's ACL parts. */
export interface SecondaryAcl {
  /** The replication status /v1/acl/replication shows. */
  status(): ACLReplicationStatus;
  /** The route table with ACL requests sent where Consul sends them and callers' tokens readied. */
  routes(table: Pick<Router, 'match' | 'list'>): Pick<Router, 'match' | 'list'>;
}

/** Wires replication, remote resolution and routing for a secondary datacenter's server. */
export function secondaryAcl(d: SecondaryAclDeps): SecondaryAcl {
  const { config, epDeps, resolver, primary } = d;
  const replicateTokens = tokenReplication(config);
  const replication = new AclReplication({
    epDeps, primary: primary.primary, tokenReplication: replicateTokens, enabled: () => resolver.enabled,
    token: d.replicationToken, get: (path, token, signal) => callPrimary(primary, 'GET', path, token, { signal }),
  });
  d.loops.add(replication);
  replicationGauges(d.telemetry, replication, replicateTokens);
  const raw = config.raw.acl as Record<string, unknown> | undefined;
  const tokens = epDeps.replica.acl.tokens;
  resolver.useRemote(new RemoteTokens({
    clock: epDeps.clock, logger: epDeps.logger.child({ '@module': 'agent.acl.remote' }),
    ttlMs: durationSetting(raw?.token_ttl, 30_000), downPolicy: config.acl.downPolicy,
    fetch: (secret, signal) => primaryToken(primary, config.datacenter, secret, signal),
    cacheStats: tokenCacheStats(d.telemetry),
  }), { always: () => !replicateTokens, unknown: () => tokens.index === 0 });
  // Consul's LocalTokensEnabled: token replication on, with a replication token to do it.
  const localTokens = () => replicateTokens && d.replicationToken() !== '';
  return {
    status: () => replication.status(),
    routes: (table) => aclPrimaryRouter(preparingRouter(table, d.reqCfg, (secret) => resolver.prepare(secret)), {
      ...primary, enabled: () => resolver.enabled, localTokens, acl: () => epDeps.replica.acl, otherLeader: d.otherLeader,
    }),
  };
}

/**
 * The primary's token for `secret` with its grants valid in `datacenter` (its internal ACL route,
 * Consul's ACL.TokenRead and ACL.PolicyResolve); null when it answers `ACL not found`.
 */
export async function primaryToken(primary: PrimaryForwardDeps, datacenter: string, secret: string, signal: AbortSignal): Promise<RemoteAnswer | null> {
  // The anonymous token's secret is `anonymous` (Consul resolves '' as it).
  const path = `${ACL_RPC_PATH}?datacenter=${encodeURIComponent(datacenter)}`;
  const res = await callPrimary(primary, 'GET', path, secret || ANONYMOUS_TOKEN_SECRET, { signal });
  const text = res.body.toString('utf8');
  if (res.status === 403 && isACLNotFound(new Error(text))) return null;
  if (res.status !== 200) throw new Error(text.trim() || `primary answered ${res.status}`);
  const g = JSON.parse(text) as TokenGrants;
  // No token record: the secret is one of the primary server's own (its agent recovery token), no token of the primary's ACL system.
  if (!g.Token) return null;
  return { token: g.Token, sources: { management: g.Management, sources: g.Sources ?? [] } };
}

/** Consul's leader.replication.acl-{policies,roles,tokens}.{status,index} gauges (1 after a good round, 0 after a failed one). */
function replicationGauges(telemetry: Telemetry, replication: AclReplication, tokens: boolean): void {
  const kinds: [ReplicationKind, string, string][] = [['policies', 'acl-policies', 'policy'], ['roles', 'acl-roles', 'role']];
  if (tokens) kinds.push(['tokens', 'acl-tokens', 'token']);
  for (const [kind, metric, noun] of kinds) {
    telemetry.gauge(`leader.replication.${metric}.status`, `Tracks the current health of ACL ${noun} replication on the leader`,
      () => (replication.health(kind).healthy ? 1 : 0));
    telemetry.gauge(`leader.replication.${metric}.index`, `Tracks the index of ACL ${kind} in the primary that the secondary has successfully replicated`,
      () => replication.health(kind).index);
  }
}
