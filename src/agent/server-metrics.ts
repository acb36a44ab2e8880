// The server's scrape-time gauges with Consul's names: leadership, autopilot health, usage
// counts (telemetry/usage.ts) and the mesh CA's expiry. All are read when scraped or pushed.
import { createRequire } from 'node:module';
import type { Telemetry } from '../telemetry/metrics.ts';
import { registerUsageGauges } from '../telemetry/usage.ts';
import type { Replica } from '../state/index.ts';
import type { LeaderElection } from '../leader/election-types.ts';
import type { LeaderLoops } from '../leader/loops.ts';
import { AutopilotMetrics } from '../leader/autopilot-metrics.ts';
import { configFromAgent } from '../leader/autopilot.ts';
import type { Store } from '../store/index.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { Member } from '../gossip/member.ts';
import { CertExpiry } from '../telemetry/cert-expiry.ts';

// The config entry kinds and the leaf-certificate code load when a gauge is first read, not at start (issue #9).
const require = createRequire(import.meta.url);

/** What the server gauges read. */
export interface ServerMetricsDeps {
  telemetry: Telemetry;
  config: RuntimeConfig;
  replica: Replica;
  store: Store;
  election: LeaderElection;
  loops: LeaderLoops;
  clock: Clock;
  logger: Logger;
  /** The LAN pool's members (null: no gossip, as in -dev without a pool). */
  members: (() => Member[]) | null;
}

/** Registers the server's gauges; autopilot's are refreshed by a leader duty. */
export function registerServerMetrics(d: ServerMetricsDeps): void {
  const { telemetry: t, replica, election } = d;
  t.gauge('rpc.queries_blocking', 'Shows the current number of in-flight blocking queries the server is handling.', () => replica.notifier.blocked);
  t.gauge('server.isLeader', 'Tracks if the server is a leader.', () => (election.isLeader() ? 1 : 0));
  const autopilot = new AutopilotMetrics({
    store: d.store, election, clock: d.clock, logger: d.logger.child({ '@module': 'agent.autopilot' }),
    agentConfig: () => configFromAgent(d.config.raw.autopilot as Record<string, unknown> | undefined),
  });
  d.loops.add(autopilot);
  t.gauge('autopilot.healthy', 'Tracks the overall health of the local server cluster. 1 if all servers are healthy, 0 if one or more are unhealthy.', () => autopilot.healthy());
  t.gauge('autopilot.failure_tolerance', 'Tracks the number of voting servers that the cluster can lose while continuing to function.', () => autopilot.failureTolerance());
  const cat = replica.catalog;
  let kinds: string[] | undefined;
  registerUsageGauges(t, {
    datacenter: d.config.datacenter,
    services: () => cat.usage.report(cat.byName.size, cat.nodes.size),
    kvEntries: () => replica.kvs.size,
    configEntries: () => (kinds ??= Object.keys((require('../endpoint/config-entry-kinds.ts') as typeof import('../endpoint/config-entry-kinds.ts')).KIND_SHAPES)).map((k) => [k, replica.configEntries.count(k)] as [string, number]),
    peerings: () => replica.peerings.all().length,
    members: () => {
      if (!d.members) return null;
      let servers = 0;
      let clients = 0;
      for (const m of d.members()) {
        if (m.state !== 'alive' && m.state !== 'suspect') continue;
        if (m.tags.role === 'consul') servers++;
        else if (m.tags.role === 'node') clients++;
      }
      return { servers, clients };
    },
  });
  // Leader-only, as Consul's CA manager reports them.
  const rootExpiry = new CertExpiry(d.clock);
  const signingExpiry = new CertExpiry(d.clock);
  t.gauge('mesh.active-root-ca.expiry', 'Seconds until the service mesh root certificate expires. Updated every hour', () => {
    const root = election.isLeader() ? activeRoot(replica) : undefined;
    return root ? rootExpiry.secondsLeft(root.RootCert) : NaN;
  });
  const signing = new SigningPem();
  t.gauge('mesh.active-signing-ca.expiry', 'Seconds until the service mesh signing certificate expires. Updated every hour', () => {
    const root = election.isLeader() ? activeRoot(replica) : undefined;
    return root ? signingExpiry.secondsLeft(signing.of(root)) : NaN;
  });
}

type ActiveRoot = { RootCert: string; SigningKeyID: string; IntermediateCerts: string[] | null };

function activeRoot(replica: Replica): ActiveRoot | undefined {
  const r = replica.caRoots.all().find((x) => x.Active) as { RootCert?: unknown; SigningKeyID?: unknown; IntermediateCerts?: unknown } | undefined;
  return typeof r?.RootCert === 'string'
    ? { RootCert: r.RootCert, SigningKeyID: String(r.SigningKeyID ?? ''), IntermediateCerts: Array.isArray(r.IntermediateCerts) ? r.IntermediateCerts as string[] : null }
    : undefined;
}

/**
 * The certificate that signs the active root's leaves (connect/leaf-cert.ts signingCert): the
 * root in the primary, even when a rotation left the old root's short-lived cross-signature in
 * IntermediateCerts; a secondary's intermediate. Worked out again only when the root changes.
 */
export class SigningPem {
  #key = '';
  #pem = '';

  of(root: ActiveRoot): string {
    const key = `${root.SigningKeyID}\n${root.RootCert}\n${(root.IntermediateCerts ?? []).join('\n')}`;
    if (key !== this.#key) {
      this.#key = key;
      try {
        this.#pem = (require('../connect/leaf-cert.ts') as typeof import('../connect/leaf-cert.ts')).signingCert(root);
      } catch {
        this.#pem = root.RootCert;
      }
    }
    return this.#pem;
  }
}
