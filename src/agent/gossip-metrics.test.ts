// Tests for Serf's metrics on the pool's events: member counters, flaps within FlapTimeout, and
// user events by name.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock.ts';
import type { Member } from '../gossip/member.ts';
import { FLAP_TIMEOUT_MS, gossipMetrics } from './gossip-metrics.ts';
import { Telemetry } from '../telemetry/metrics.ts';

function fakeTelemetry(): { counterFamily(name: string): (labels: Record<string, string>) => (n?: number) => void; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    counts,
    counterFamily: (name) => (labels) => {
      assert.deepEqual(labels, { network: 'lan' });
      counts.set(name, 0);
      return (n = 1) => void counts.set(name, counts.get(name)! + n);
    },
  };
}

const member = (name: string): Member => ({ name, addr: '127.0.0.1', port: 8301, tags: {}, incarnation: 1, state: 'alive', stateChange: 0 });

describe('gossip metrics', () => {
  it('counts joins, leaves, failures and updates, and a rejoin within FlapTimeout as a flap', () => {
    const t = fakeTelemetry();
    const clock = new ManualClock();
    const on = gossipMetrics(t, clock);
    on({ type: 'member-join', member: member('a') });
    on({ type: 'member-failed', member: member('a') });
    clock.advance(FLAP_TIMEOUT_MS - 1);
    on({ type: 'member-join', member: member('a') });
    on({ type: 'member-failed', member: member('b') });
    clock.advance(FLAP_TIMEOUT_MS);
    on({ type: 'member-join', member: member('b') });
    on({ type: 'member-update', member: member('b') });
    on({ type: 'member-leave', member: member('b') });
    assert.equal(t.counts.get('serf.member.join'), 3);
    assert.equal(t.counts.get('serf.member.failed'), 2);
    assert.equal(t.counts.get('serf.member.flap'), 1);
    assert.equal(t.counts.get('serf.member.update'), 1);
    assert.equal(t.counts.get('serf.member.left'), 1);
  });

  it('counts user events, in total and by name', () => {
    const t = fakeTelemetry();
    const on = gossipMetrics(t, new ManualClock());
    const user = (name: string) => on({ type: 'user', event: { ltime: 1, name, payload: Buffer.alloc(0), coalesce: false } });
    user('deploy');
    user('deploy');
    user('restart');
    assert.equal(t.counts.get('serf.events'), 3);
    assert.equal(t.counts.get('serf.events.deploy'), 2);
    assert.equal(t.counts.get('serf.events.restart'), 1);
  });

  it('user event names that differ only in characters Prometheus forbids share one counter instead of breaking the registry', async () => {
    for (const scrapeFirst of [false, true]) {
      const t = new Telemetry(new ManualClock());
      if (scrapeFirst) await t.prometheus();
      const on = gossipMetrics(t, new ManualClock());
      const user = (name: string) => on({ type: 'user', event: { ltime: 1, name, payload: Buffer.alloc(0), coalesce: false } });
      user('a-b');
      user('a_b');
      user('a.b');
      const text = await t.prometheus();
      assert.match(text, /^consul_serf_events_a_b\{network="lan"\} 3$/m);
      assert.match(text, /^consul_serf_events\{network="lan"\} 3$/m);
    }
  });

  it('label each pool by network, one family per name for both pools', async () => {
    const t = new Telemetry(new ManualClock());
    const lan = gossipMetrics(t, new ManualClock(), 'lan');
    const wan = gossipMetrics(t, new ManualClock(), 'wan');
    lan({ type: 'member-join', member: member('a') });
    wan({ type: 'member-join', member: member('a.dc2') });
    wan({ type: 'member-failed', member: member('a.dc2') });
    const text = await t.prometheus();
    assert.match(text, /^consul_serf_member_join\{network="lan"\} 1$/m);
    assert.match(text, /^consul_serf_member_join\{network="wan"\} 1$/m);
    assert.match(text, /^consul_serf_member_failed\{network="wan"\} 1$/m);
    assert.doesNotMatch(text, /^consul_serf_member_failed\{network="lan"\}/m);
  });
});
