// The multi-datacenter wiring of a server: the secondary datacenter's CA (intermediate signed by
// the primary), and the route table and leader duties of a secondary (ACL replication and remote
// resolution, config entry replication, requests for the primary's data sent there) over the
// WAN-forwarding router.
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Telemetry } from '../telemetry/metrics.ts';
import type { Replica } from '../state/index.ts';
import type { AclResolver, EndpointDeps } from '../endpoint/index.ts';
import type { ConfigEntryEndpoint } from '../endpoint/config-entries.ts';
import { SecondaryCA } from '../leader/ca-secondary.ts';
import type { LeaderLoops } from '../leader/loops.ts';
import type { CASettings } from '../connect/index.ts';
import type { RequestConfig, Router } from '../http/index.ts';
import { primaryCA } from './primary-ca.ts';
import { forwardingRouter, type DcForwardingDeps } from './dc-forward.ts';
import { isSecondary, primaryDatacenter, type PrimaryForwardDeps } from './primary-forward.ts';
import { secondaryAcl, type SecondaryAcl } from './acl-secondary.ts';
import { configPrimaryRouter } from './config-primary-routes.ts';
import { replicateConfigEntries } from './config-replication-source.ts';
import { namespacePrimaryRouter, replicateNamespaces } from './namespace-federation.ts';
import { NamespaceEndpoint } from '../endpoint/namespaces.ts';
import { Forwarder } from './forward.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { AgentHooks } from './server.ts';

/** The CA of a secondary datacenter (Connect on, primary_datacenter another one), reaching the primary over the WAN; else undefined. */
export function secondaryDatacenterCA(
  config: RuntimeConfig, deps: EndpointDeps, hooks: AgentHooks, forwarder: Forwarder, settings: () => CASettings, replicationToken: () => string,
): SecondaryCA | undefined {
  if (!config.connect.enabled || !isSecondary(config)) return undefined;
  const primary = primaryDatacenter(config);
  const to: PrimaryForwardDeps = {
    primary, dc: { datacenter: config.datacenter, nodeName: config.nodeName, routes: hooks.wan ?? { rpcAddresses: () => [] }, defaultToken: () => '', forwarder },
  };
  return new SecondaryCA({
    deps, primaryDatacenter: primary, connect: config.connect, settings,
    primary: primaryCA({ to, maxQueryTimeMs: config.maxQueryTime, replicationToken }),
  });
}

/** What federate() needs from buildServer. */
export interface FederationDeps {
  config: RuntimeConfig;
  epDeps: EndpointDeps;
  /** This server's own route table. */
  routes: Pick<Router, 'match' | 'list'>;
  /** Cross-datacenter forwarding (absent when the server is in no WAN pool). */
  dcForward: DcForwardingDeps | undefined;
  resolver: AclResolver;
  configEntries: ConfigEntryEndpoint;
  replica: Replica;
  /** acl.tokens.replication, read live. */
  replicationToken: () => string;
  loops: LeaderLoops;
  telemetry: Telemetry;
  /** The leader's internal RPC address when another server leads ('' when this one does or none is known). */
  otherLeader: () => string;
  reqCfg: RequestConfig;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

/**
 * The route table a server serves: requests for another datacenter forwarded over the WAN, and in a
 * secondary datacenter ACL and config entry requests sent to the primary, with the leader's ACL and
 * config entry replication added to its loops; aclSecondary is the secondary's ACL parts (else undefined).
 */
export function federate(d: FederationDeps): { router: Pick<Router, 'match' | 'list'>; aclSecondary: SecondaryAcl | undefined } {
  const { config, dcForward, routes, logger } = d;
  // A secondary datacenter's server reaches the primary over the WAN (none known without it: No path to datacenter).
  const toPrimary: PrimaryForwardDeps | null = isSecondary(config) ? {
    primary: primaryDatacenter(config),
    dc: dcForward ?? { datacenter: config.datacenter, nodeName: config.nodeName, routes: { rpcAddresses: () => [] }, defaultToken: () => '', forwarder: new Forwarder({ logger }) },
  } : null;
  const aclSecondary = toPrimary ? secondaryAcl({
    primary: toPrimary, config, epDeps: d.epDeps, resolver: d.resolver, replicationToken: d.replicationToken,
    loops: d.loops, telemetry: d.telemetry, otherLeader: d.otherLeader, reqCfg: d.reqCfg,
  }) : undefined;
  const own = aclSecondary ? aclSecondary.routes(routes) : routes;
  const router = namespacePrimaryRouter(configPrimaryRouter(dcForward ? forwardingRouter(own, dcForward) : own, own, toPrimary, config.connect.enabled, {
    datacenter: config.datacenter, primary: primaryDatacenter(config),
  }), own, toPrimary);
  if (toPrimary) {
    replicateConfigEntries({
      primary: toPrimary, loops: d.loops, telemetry: d.telemetry, entries: d.configEntries, replica: d.replica,
      token: d.replicationToken, clock: d.clock, logger, random: d.random,
    });
    replicateNamespaces({
      primary: toPrimary, loops: d.loops, telemetry: d.telemetry, namespaces: new NamespaceEndpoint(d.epDeps), replica: d.replica,
      token: d.replicationToken, aclsEnabled: config.acl.enabled, clock: d.clock, logger, random: d.random,
    });
  }
  return { router, aclSecondary };
}
