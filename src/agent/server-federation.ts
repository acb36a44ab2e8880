// The multi-datacenter wiring of a server: the secondary datacenter's CA (intermediate signed by
// the primary), and the route table and leader duties of a secondary (ACL replication and remote
// resolution, config entry replication, requests for the primary's data sent there) over the
// WAN-forwarding router.
import { createRequire } from 'node:module';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Telemetry } from '../telemetry/metrics.ts';
import type { Replica } from '../state/index.ts';
import type { AclResolver, EndpointDeps } from '../endpoint/index.ts';
import type { ConfigEntryEndpoint } from '../endpoint/config-entries.ts';
import type { SecondaryCA } from '../leader/ca-secondary.ts';
import type { LeaderLoops } from '../leader/loops.ts';
import type { CASettings } from '../connect/index.ts';
import type { RequestConfig, Router } from '../http/index.ts';
import { forwardingRouter, type DcForwardingDeps } from './dc-forward.ts';
import { isSecondary, primaryDatacenter, type PrimaryForwardDeps } from './primary-forward.ts';
import type { SecondaryAcl } from './acl-secondary.ts';
import { configPrimaryRouter } from './config-primary-routes.ts';
import { namespacePrimaryRouter, replicateNamespaces } from './namespace-federation.ts';
import { Forwarder } from './forward.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { AgentHooks } from './server.ts';

// Only a secondary datacenter's servers use these (ACL and config entry replication, the CA's
// intermediate from the primary): loaded on first use, so a primary or single-datacenter agent
// does not load their ≈ 12 modules at every start (issue #9, start-up).
const require = createRequire(import.meta.url);
const lazy = <T>(path: string): (() => T) => { let m: T | undefined; return () => (m ??= require(path) as T); };
const caSecondary = lazy<typeof import('../leader/ca-secondary.ts')>('../leader/ca-secondary.ts');
const caPrimary = lazy<typeof import('./primary-ca.ts')>('./primary-ca.ts');
const aclSecondaryModule = lazy<typeof import('./acl-secondary.ts')>('./acl-secondary.ts');
const configReplication = lazy<typeof import('./config-replication-source.ts')>('./config-replication-source.ts');
const namespaceEndpoint = lazy<typeof import('../endpoint/namespaces.ts')>('../endpoint/namespaces.ts');

/** The CA of a secondary datacenter (Connect on, primary_datacenter another one), reaching the primary over the WAN; else undefined. */
export function secondaryDatacenterCA(
  config: RuntimeConfig, deps: EndpointDeps, hooks: AgentHooks, forwarder: Forwarder, settings: () => CASettings, replicationToken: () => string,
): SecondaryCA | undefined {
  if (!config.connect.enabled || !isSecondary(config)) return undefined;
  const primary = primaryDatacenter(config);
  const to: PrimaryForwardDeps = {
    primary, dc: { datacenter: config.datacenter, nodeName: config.nodeName, routes: hooks.wan ?? { rpcAddresses: () => [] }, defaultToken: () => '', forwarder },
  };
  return new (caSecondary().SecondaryCA)({
    deps, primaryDatacenter: primary, connect: config.connect, settings,
    primary: caPrimary().primaryCA({ to, maxQueryTimeMs: config.maxQueryTime, replicationToken }),
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
  const aclSecondary = toPrimary ? aclSecondaryModule().secondaryAcl({
    primary: toPrimary, config, epDeps: d.epDeps, resolver: d.resolver, replicationToken: d.replicationToken,
    loops: d.loops, telemetry: d.telemetry, otherLeader: d.otherLeader, reqCfg: d.reqCfg,
  }) : undefined;
  const own = aclSecondary ? aclSecondary.routes(routes) : routes;
  const router = namespacePrimaryRouter(configPrimaryRouter(dcForward ? forwardingRouter(own, dcForward) : own, own, toPrimary, config.connect.enabled, {
    datacenter: config.datacenter, primary: primaryDatacenter(config),
  }), own, toPrimary);
  if (toPrimary) {
    configReplication().replicateConfigEntries({
      primary: toPrimary, loops: d.loops, telemetry: d.telemetry, entries: d.configEntries, replica: d.replica,
      token: d.replicationToken, clock: d.clock, logger, random: d.random,
    });
    replicateNamespaces({
      primary: toPrimary, loops: d.loops, telemetry: d.telemetry, namespaces: new (namespaceEndpoint().NamespaceEndpoint)(d.epDeps), replica: d.replica,
      token: d.replicationToken, aclsEnabled: config.acl.enabled, clock: d.clock, logger, random: d.random,
    });
  }
  return { router, aclSecondary };
}
