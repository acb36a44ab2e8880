// Consul's usage gauges (agent/consul/usagemetrics): catalog, KV, config entry, peering and
// member counts of this datacenter, emitted by servers with a `datacenter` label. They are read
// from the replica's running counts when scraped or pushed, so writes pay nothing for them.
import type { Telemetry } from './metrics.ts';
import type { ServiceUsage } from '../api/operator-usage.ts';

/** What the usage gauges read. */
export interface UsageSource {
  datacenter: string;
  /** The catalog's counts, as /v1/operator/usage reports them. */
  services(): ServiceUsage;
  kvEntries(): number;
  /** Config entry counts of every kind Consul knows (0 included). */
  configEntries(): Iterable<[kind: string, count: number]>;
  peerings(): number;
  /** Alive LAN members by their `role` tag (`consul`: server, `node`: client); null without gossip. */
  members(): { servers: number; clients: number } | null;
}

/** Registers the usage gauges with Consul's names, help texts and labels. */
export function registerUsageGauges(t: Pick<Telemetry, 'labeledGauge'>, u: UsageSource): void {
  const dc = { datacenter: u.datacenter };
  const one = (read: () => number) => (): Iterable<[{ datacenter: string }, number]> => [[dc, read()]];
  t.labeledGauge('state.nodes', 'Measures the current number of nodes registered with Consul. It is only emitted by Consul servers.', ['datacenter'], one(() => u.services().Nodes));
  t.labeledGauge('state.services', 'Measures the current number of unique services registered with Consul, based on service name. It is only emitted by Consul servers.', ['datacenter'],
    one(() => u.services().Services));
  t.labeledGauge('state.service_instances', 'Measures the current number of unique service instances registered with Consul. It is only emitted by Consul servers.', ['datacenter'],
    one(() => u.services().ServiceInstances));
  t.labeledGauge('state.billable_service_instances', 'Measures the current number of billable service instances registered with Consul. It is only emitted by Consul servers.', ['datacenter'],
    one(() => u.services().BillableServiceInstances));
  t.labeledGauge('state.connect_instances', 'Measures the current number of unique connect service instances registered with Consul, labeled by Kind. It is only emitted by Consul servers.',
    ['datacenter', 'kind'], () => Object.entries(u.services().ConnectServiceInstances).map(([kind, n]) => [{ ...dc, kind }, n]));
  t.labeledGauge('state.kv_entries', 'Measures the current number of entries in the Consul KV store. It is only emitted by Consul servers.', ['datacenter'], one(() => u.kvEntries()));
  t.labeledGauge('state.config_entries', 'Measures the current number of unique configuration entries registered with Consul, labeled by Kind. It is only emitted by Consul servers.',
    ['datacenter', 'kind'], () => [...u.configEntries()].map(([kind, n]) => [{ ...dc, kind }, n]));
  t.labeledGauge('state.peerings', 'Measures the current number of peerings registered with Consul. It is only emitted by Consul servers.', ['datacenter'], one(() => u.peerings()));
  const members = (role: 'servers' | 'clients') => (): Iterable<[{ datacenter: string }, number]> => {
    const m = u.members();
    return m ? [[dc, m[role]]] : [];
  };
  t.labeledGauge('members.clients', 'Measures the current number of client agents registered with Consul. It is only emitted by Consul servers.', ['datacenter'], members('clients'));
  t.labeledGauge('members.servers', 'Measures the current number of server agents registered with Consul. It is only emitted by Consul servers.', ['datacenter'], members('servers'));
}
