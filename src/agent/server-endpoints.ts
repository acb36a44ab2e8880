// The endpoint set of a server and the factories of the endpoints that need more than their
// EndpointDeps (ACL resolver, Connect CA duties, snapshot restore hooks, peering addresses, leaf
// certificates). buildServer (server.ts) assembles them; this file only constructs.
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Telemetry } from '../telemetry/metrics.ts';
import {
  KvEndpoint, TxnEndpoint, SessionEndpoint, CatalogEndpoint, HealthEndpoint,
  type EndpointDeps, type AclIdentity,
} from '../endpoint/index.ts';
import { ConnectCAEndpoint } from '../endpoint/connect-ca.ts';
import { AutoEncryptEndpoint } from '../endpoint/auto-encrypt.ts';
import { ConnectCASignEndpoint } from '../endpoint/connect-ca-sign.ts';
import { LeafCertManager } from './leaf-certs.ts';
import { AclExplainEndpoint } from '../endpoint/acl-explain.ts';
import { SnapshotEndpoint } from '../endpoint/snapshot.ts';
import { AclResolver, AclTokenEndpoint, AclPolicyEndpoint, AclAuthEndpoint, AclMiscEndpoint } from '../endpoint/index.ts';
import { ensureCARoot, ensureClusterId } from '../leader/ca.ts';
import type { SecondaryCA } from '../leader/ca-secondary.ts';
import { ConnectCAIntermediateEndpoint } from '../endpoint/connect-ca-intermediate.ts';
import type { LeaderSide } from '../leader/duties.ts';
import { ConfigEntryEndpoint } from '../endpoint/config-entries.ts';
import { CoordinateEndpoint } from '../endpoint/coordinate.ts';
import { PreparedQueryEndpoint } from '../endpoint/prepared-query.ts';
import { isSecondary } from './primary-forward.ts';
import type { ACLReplicationStatus } from '../acl/index.ts';
import { PeeringEndpoint } from '../endpoint/peering.ts';
import { PeeringTracker } from '../endpoint/peering-tracker.ts';
import { exchangeSecret } from './peer-dialer.ts';
import type { Local } from './local/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { AgentHooks } from './server.ts';

/** Every endpoint of a server. */
export interface Endpoints {
  kv: KvEndpoint;
  txn: TxnEndpoint;
  ca: ConnectCAEndpoint;
  session: SessionEndpoint;
  catalog: CatalogEndpoint;
  health: HealthEndpoint;
  /** Config entries. */
  configEntries: ConfigEntryEndpoint;
  acl: AclEndpoints;
  /** Snapshot save and restore. */
  snapshot: SnapshotEndpoint;
  /** Network coordinates (updates batched into the store, reads, ?near sorting). */
  coordinate: CoordinateEndpoint;
  /** Prepared queries (Consul's PreparedQuery.*). */
  query: PreparedQueryEndpoint;
  /** Client agents' certificates (AutoEncrypt.Sign). */
  autoEncrypt: AutoEncryptEndpoint;
  /** Service leaf certificates (ConnectCA.Sign). */
  connectSign: ConnectCASignEndpoint;
  /** Secondary datacenters' intermediate CA certificates (ConnectCA.SignIntermediate). */
  connectSignIntermediate: ConnectCAIntermediateEndpoint;
  /** Cluster peerings (Consul's PeeringService). */
  peering: PeeringEndpoint;
}

/** The ACL endpoints and the token resolver they share. */
export interface AclEndpoints {
  resolver: AclResolver;
  tokens: AclTokenEndpoint;
  policies: AclPolicyEndpoint;
  auth: AclAuthEndpoint;
  misc: AclMiscEndpoint;
  /** /v1/acl/explain: which rule decided (beyond Consul). */
  explain: AclExplainEndpoint;
}

/** The snapshot endpoint; a restore re-runs the leader duties and the local agent's sync over the new state. */
export function snapshotEndpoint(deps: EndpointDeps, side: LeaderSide, local: () => Local): SnapshotEndpoint {
  const { election, loops } = side;
  return new SnapshotEndpoint(deps, {
    term: () => election.term(),
    servers: () => election.servers().filter((s) => !s.ReadReplica),
    lastContact: () => election.lastContactMs(),
    reassert: async () => {
      if (loops.running) {
        await loops.stop();
        await loops.start();
      }
      void local().ae.syncFull().catch(() => {});
    },
  });
}

/**
 * The Connect CA endpoint; a configuration stored while the CA has no root yet makes one, one with
 * new key material rotates the root (the leader's CA duties). In a secondary datacenter the root is
 * the primary's: new key settings get a new intermediate instead, and nothing makes a root.
 */
export function connectCA(deps: EndpointDeps, config: RuntimeConfig, secondary: SecondaryCA | undefined): ConnectCAEndpoint {
  const ca: ConnectCAEndpoint = new ConnectCAEndpoint(deps, {
    connectEnabled: config.connect.enabled, agent: config.connect,
    initialize: secondary ? undefined : async () => ensureCARoot(deps, await ensureClusterId(deps), ca),
    // The rotation's module loads with the first rotation, not at start (issue #9).
    rotate: secondary ? (r) => secondary.reconfigure(r) : async (r) => (await import('../leader/ca-rotation.ts')).rotateCARoot(deps, r),
  });
  return ca;
}

/**
 * The peering endpoint: tokens name this server's HTTP listener (HTTPS with the agent's CA when
 * plain HTTP is off) as where dialers reach the peer stream, then the other servers of the
 * datacenter at the same port (servers of one datacenter share their port settings), so a dialer
 * still reaches the cluster when this server is down.
 */
export function peeringEndpoint(
  deps: EndpointDeps, config: RuntimeConfig, hooks: AgentHooks, servers: () => { Node: string; Address: string; Lease: number }[], selfLease: () => number,
): PeeringEndpoint {
  const plain = config.httpAddrs.length > 0;
  const port = (): number => {
    const bound = hooks.httpAddresses?.()[0];
    return bound ? Number(bound.slice(bound.lastIndexOf(':') + 1)) : plain ? config.ports.http : config.ports.https;
  };
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  return new PeeringEndpoint(deps, {
    tracker: new PeeringTracker(deps.clock), enabled: peeringEnabled(config),
    holders: {
      self: () => ({ Node: config.nodeName, Lease: selfLease() }),
      live: (node, lease) => servers().some((s) => s.Node === node && s.Lease === lease),
    },
    serverAddresses: () => {
      const others = servers().filter((s) => s.Node !== config.nodeName).map((s) => s.Address.slice(0, s.Address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1'));
      return [...new Set([config.advertiseAddr, ...others])].map((h) => `${bracket(h)}:${port()}`);
    },
    caPems: () => (plain ? null : hooks.tls?.manualCaPems() ?? null),
    exchange: (p, secret) => exchangeSecret(p, secret, deps.clock),
  });
}

/** The agent's peering.enabled (Consul's default: true). */
export function peeringEnabled(config: RuntimeConfig): boolean {
  return (config.raw.peering as { enabled?: unknown } | undefined)?.enabled !== false;
}

/** Consul's acl.enable_key_list_policy: `keys`/`recurse` then need `list` on the prefix. */
export function keyListPolicy(config: RuntimeConfig): boolean {
  const acl = config.raw.acl as Record<string, unknown> | undefined;
  return acl?.enable_key_list_policy === true;
}

/** Builds the ACL endpoints over one resolver. */
export function aclEndpoints(
  deps: EndpointDeps, config: RuntimeConfig, agentRecovery: () => string, replication: () => ACLReplicationStatus | undefined,
): AclEndpoints {
  const resolver = new AclResolver(deps, {
    enabled: config.acl.enabled, defaultPolicy: config.acl.defaultPolicy, datacenter: config.datacenter,
    nodeName: config.nodeName, agentRecovery,
  });
  return {
    resolver, tokens: new AclTokenEndpoint(deps, resolver), policies: new AclPolicyEndpoint(deps, resolver),
    auth: new AclAuthEndpoint(deps, resolver, { primary: !isSecondary(config) }), misc: new AclMiscEndpoint(deps, resolver, replication),
    explain: new AclExplainEndpoint(resolver),
  };
}

/** Consul's consul.kvs.apply: the time a KV write takes on the server. */
export function kvsApplyTimer(telemetry: Telemetry): (ms: number) => void {
  return telemetry.timer('kvs.apply', 'Measures the time it takes to complete an update to the KV store.');
}

/** The agent's leaf certificates on a server: roots read and watched in the replica, signed by this server. */
export function serverLeafCerts(
  endpoints: Endpoints, config: RuntimeConfig, clock: Clock, random: () => number, logger: Logger, resolve: (secret: string) => AclIdentity | undefined,
): LeafCertManager {
  const read = (minIndex: number, waitMs: number, signal?: AbortSignal) => endpoints.ca.roots({ minIndex, waitMs, consistency: 'default', token: '', signal });
  return new LeafCertManager({
    datacenter: config.datacenter, clock, random, logger,
    roots: async () => (await read(0, 0)).value,
    watchRoots: async (index, signal) => {
      const { value, meta } = await read(index, config.maxQueryTime, signal);
      return { value, index: meta.index };
    },
    sign: (csr, token) => endpoints.connectSign.sign({ Datacenter: config.datacenter, CSR: csr }, resolve(token)),
  });
}
