// Tests for memberlist's metrics: each pool's hooks count into one family per name labelled by
// network (lan, wan), timers reach the summaries at the next read, and health.score reads each
// pool's awareness when scraped.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock.ts';
import type { Member } from '../gossip/member.ts';
import type { GossipStatsHooks } from '../gossip/stats.ts';
import { Telemetry } from '../telemetry/metrics.ts';
import { memberlistMetrics } from './memberlist-metrics.ts';

interface FakePool {
  hooks: Partial<GossipStatsHooks>; instrument(h: Partial<GossipStatsHooks>): void; healthScore(): number; members(): Member[];
  config: { gossipToTheDeadMs: number };
}

const member = (name: string, state: Member['state'], stateChange = 0): Member => ({ name, addr: '127.0.0.1', port: 8301, tags: {}, incarnation: 1, state, stateChange });

function fakePool(score: number, members: Member[] = [], gossipToTheDeadMs = 30_000): FakePool {
  const p: FakePool = { hooks: {}, instrument: (h) => { p.hooks = h; }, healthScore: () => score, members: () => members, config: { gossipToTheDeadMs } };
  return p;
}

// The fake stands in for the gossip node: only what memberlistMetrics reads.
const asGossip = (p: FakePool) => p as unknown as Parameters<typeof memberlistMetrics>[2];

describe('memberlist metrics', () => {
  it('label each pool by network, in Prometheus and the JSON summary', async () => {
    const t = new Telemetry(new ManualClock(Date.parse('2026-01-01T00:00:00Z')));
    const lan = fakePool(0, [member('a', 'alive'), member('b', 'alive'), member('c', 'suspect')]);
    const wan = fakePool(3);
    memberlistMetrics(t, 'lan', asGossip(lan), new ManualClock(0));
    memberlistMetrics(t, 'wan', asGossip(wan), new ManualClock(0));
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
    lan.hooks.degradedProbe!();
    wan.hooks.degradedTimeout!();
    lan.hooks.pushPullNode!(3, performance.now());
    lan.hooks.sizeLocal!(400);
    lan.hooks.sizeLocal!(512);
    lan.hooks.sizeRemote!(300);
    wan.hooks.queueBroadcasts!(7);
    const prom = await t.prometheus();
    assert.match(prom, /^consul_memberlist_degraded_probe\{network="lan"\} 1$/m);
    assert.match(prom, /^consul_memberlist_degraded_timeout\{network="wan"\} 1$/m);
    assert.match(prom, /^consul_memberlist_pushPullNode_count\{network="lan"\} 1$/m);
    assert.match(prom, /^consul_memberlist_size_remote_sum\{network="lan"\} 300$/m);
    assert.match(prom, /^consul_memberlist_queue_broadcasts_sum\{network="wan"\} 7$/m);
    // The last push-pull's size; none for a pool that has not exchanged state.
    assert.match(prom, /^# TYPE consul_memberlist_size_local gauge$/m);
    assert.match(prom, /^consul_memberlist_size_local\{network="lan"\} 512$/m);
    assert.doesNotMatch(prom, /^consul_memberlist_size_local\{network="wan"\}/m);
    assert.match(prom, /^# TYPE consul_memberlist_node_instances gauge$/m);
    assert.match(prom, /^consul_memberlist_node_instances\{network="lan",node_state="alive"\} 2$/m);
    assert.match(prom, /^consul_memberlist_node_instances\{network="lan",node_state="suspect"\} 1$/m);
    assert.match(prom, /^consul_memberlist_node_instances\{network="lan",node_state="dead"\} 0$/m);
    assert.match(prom, /^consul_memberlist_node_instances\{network="wan",node_state="left"\} 0$/m);
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

  it('node.instances leaves out dead and left members once gossip_to_the_dead_time has passed, as memberlist forgets them', async () => {
    const t = new Telemetry(new ManualClock(Date.parse('2026-01-01T00:00:00Z')));
    const clock = new ManualClock(100_000);
    // Failed 10 s ago (still gossiped to), failed and left long ago (Serf remembers them for
    // reconnect_timeout; memberlist's table no longer holds them).
    const lan = fakePool(0, [
      member('self', 'alive'), member('recent', 'dead', 90_000), member('old', 'dead', 10_000), member('gone', 'left', 20_000), member('bye', 'left', 95_000),
    ]);
    memberlistMetrics(t, 'lan', asGossip(lan), clock);
    const prom = await t.prometheus();
    assert.match(prom, /^consul_memberlist_node_instances\{network="lan",node_state="alive"\} 1$/m);
    assert.match(prom, /^consul_memberlist_node_instances\{network="lan",node_state="dead"\} 1$/m);
    assert.match(prom, /^consul_memberlist_node_instances\{network="lan",node_state="left"\} 1$/m);
  });
});
