// Tests for the usage gauges: Consul's names with the datacenter label (and kind where Consul
// has it), read at scrape time; member gauges absent without a gossip pool.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Telemetry } from './metrics.ts';
import { registerUsageGauges, type UsageSource } from './usage.ts';

const clock = { now: () => Date.UTC(2025, 0, 15, 12, 0, 0), setTimer: () => ({ cancel() {} }) } as never;

function source(over: Partial<UsageSource> = {}): UsageSource {
  return {
    datacenter: 'dc7',
    services: () => ({ Services: 3, ServiceInstances: 5, BillableServiceInstances: 2, Nodes: 4, ConnectServiceInstances: { 'connect-proxy': 2, 'mesh-gateway': 0 } }),
    kvEntries: () => 9,
    configEntries: () => [['service-defaults', 1], ['mesh', 0]],
    peerings: () => 1,
    members: () => ({ servers: 3, clients: 8 }),
    ...over,
  };
}

describe('usage gauges', () => {
  it("renders Consul's usage gauges with their labels in Prometheus and JSON", async () => {
    const t = new Telemetry(clock);
    let nodes = 4;
    registerUsageGauges(t, source({ services: () => ({ Services: 3, ServiceInstances: 5, BillableServiceInstances: 2, Nodes: nodes, ConnectServiceInstances: { 'connect-proxy': 2 } }) }));
    const text = await t.prometheus();
    for (const line of [
      'consul_state_nodes{datacenter="dc7"} 4', 'consul_state_services{datacenter="dc7"} 3', 'consul_state_service_instances{datacenter="dc7"} 5',
      'consul_state_billable_service_instances{datacenter="dc7"} 2', 'consul_state_connect_instances{datacenter="dc7",kind="connect-proxy"} 2',
      'consul_state_kv_entries{datacenter="dc7"} 9', 'consul_state_config_entries{datacenter="dc7",kind="service-defaults"} 1',
      'consul_state_config_entries{datacenter="dc7",kind="mesh"} 0', 'consul_state_peerings{datacenter="dc7"} 1',
      'consul_members_servers{datacenter="dc7"} 3', 'consul_members_clients{datacenter="dc7"} 8',
    ]) assert.ok(text.split('\n').includes(line), line);
    assert.match(text, /^# TYPE consul_state_nodes gauge$/m);
    nodes = 6;
    const json = await t.consulJSON() as { Gauges: { Name: string; Value: number; Labels: Record<string, string> }[] };
    assert.deepEqual(json.Gauges.find((g) => g.Name === 'consul.state.nodes'), { Name: 'consul.state.nodes', Value: 6, Labels: { datacenter: 'dc7' } });
  });

  it('leaves the member gauges out without a gossip pool', async () => {
    const t = new Telemetry(clock);
    registerUsageGauges(t, source({ members: () => null }));
    const json = await t.consulJSON() as { Gauges: { Name: string }[] };
    assert.ok(!json.Gauges.some((g) => g.Name.startsWith('consul.members.')));
    assert.ok(json.Gauges.some((g) => g.Name === 'consul.state.peerings'));
  });

  it('leaves a NaN gauge (not emitted here) out of the JSON summary', async () => {
    const t = new Telemetry(clock);
    t.gauge('autopilot.healthy', 'leader only', () => NaN);
    const json = await t.consulJSON() as { Gauges: { Name: string }[] };
    assert.ok(!json.Gauges.some((g) => g.Name === 'consul.autopilot.healthy'));
    assert.match(await t.prometheus(), /^consul_autopilot_healthy nan$/im);
  });
});
