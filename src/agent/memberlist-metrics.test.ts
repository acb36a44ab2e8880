// Tests for memberlist's metrics: each pool's hooks count into one family per name labelled by
// network (lan, wan), timers reach the summaries at the next read, and health.score reads each
// pool's awareness when scraped.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock.ts';
import type { GossipStatsHooks } from '../gossip/stats.ts';
import { Telemetry } from '../telemetry/metrics.ts';
import { memberlistMetrics } from './memberlist-metrics.ts';

function fakePool(score: number): { hooks: Partial<GossipStatsHooks>; instrument(h: Partial<GossipStatsHooks>): void; healthScore(): number } {
  const p = { hooks: {} as Partial<GossipStatsHooks>, instrument: (h: Partial<GossipStatsHooks>) => { p.hooks = h; }, healthScore: () => score };
  return p;
}

describe('memberlist metrics', () => {
  it('label each pool by network, in Prometheus and the JSON summary', async () => {
    const t = new Telemetry(new ManualClock(Date.parse('2026-01-01T00:00:00Z')));
    const lan = fakePool(0);
    const wan = fakePool(3);
    memberlistMetrics(t, 'lan', lan);
    memberlistMetrics(t, 'wan', wan);
    lan.hooks.msgAlive!();
    lan.hooks.msgAlive!();
    wan.hooks.msgSuspect!();
    lan.hooks.udpSent!(120);
    lan.hooks.udpReceived!(80);
    wan.hooks.tcpConnect!();
    wan.hooks.tcpSent!(1000);
    lan.hooks.tcpAccept!();
    lan.hooks.msgDead!();
    lan.hooks.probeNode!(1.5, performance.now());
    wan.hooks.gossip!(0.25, performance.now());
    const prom = await t.prometheus();
    assert.match(prom, /^# TYPE consul_memberlist_msg_alive counter$/m);
    assert.match(prom, /^consul_memberlist_msg_alive\{network="lan"\} 2$/m);
    assert.match(prom, /^consul_memberlist_msg_suspect\{network="wan"\} 1$/m);
    assert.match(prom, /^consul_memberlist_msg_dead\{network="lan"\} 1$/m);
    assert.match(prom, /^consul_memberlist_udp_sent\{network="lan"\} 120$/m);
    assert.match(prom, /^consul_memberlist_udp_received\{network="lan"\} 80$/m);
    assert.match(prom, /^consul_memberlist_tcp_connect\{network="wan"\} 1$/m);
    assert.match(prom, /^consul_memberlist_tcp_sent\{network="wan"\} 1000$/m);
    assert.match(prom, /^consul_memberlist_tcp_accept\{network="lan"\} 1$/m);
    // A pool that never counted shows no series for its label.
    assert.doesNotMatch(prom, /^consul_memberlist_msg_alive\{network="wan"\}/m);
    assert.match(prom, /^# TYPE consul_memberlist_probeNode summary$/m);
    assert.match(prom, /^consul_memberlist_probeNode_count\{network="lan"\} 1$/m);
    assert.match(prom, /^consul_memberlist_gossip_count\{network="wan"\} 1$/m);
    assert.match(prom, /^# TYPE consul_memberlist_health_score gauge$/m);
    assert.match(prom, /^consul_memberlist_health_score\{network="lan"\} 0$/m);
    assert.match(prom, /^consul_memberlist_health_score\{network="wan"\} 3$/m);

    const json = await t.consulJSON() as { Gauges: { Name: string; Value: number; Labels: Record<string, string> }[]; Counters: { Name: string; Count: number; Labels: Record<string, string> }[]; Samples: { Name: string; Count: number; Labels: Record<string, string> }[] };
    assert.deepEqual(json.Gauges.filter((g) => g.Name === 'consul.memberlist.health.score').map((g) => [g.Labels.network, g.Value]), [['lan', 0], ['wan', 3]]);
    assert.equal(json.Counters.find((c) => c.Name === 'consul.memberlist.udp.sent' && c.Labels.network === 'lan')?.Count, 120);
    assert.equal(json.Samples.find((s) => s.Name === 'consul.memberlist.probeNode' && s.Labels.network === 'lan')?.Count, 1);
  });
});
