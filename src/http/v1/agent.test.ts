// agent/self's Config section: Consul's identity fields, plus the two fields of Consul 0.x's whole
// config that its clients still read, in the types Consul 0.x sent them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentSelfHandlers } from './agent.ts';
import { devConfig } from '../../../test/support/agent.ts';

const leadership = { isLeader: () => true, knownLeader: () => true, leaderAddr: () => '127.0.0.1:8300', peers: () => ['127.0.0.1:8300'] };

/** agent/self's body for a config built from `overrides`. */
async function self(overrides: Parameters<typeof devConfig>[0] = {}): Promise<{ Config: Record<string, unknown>; DebugConfig: Record<string, unknown> }> {
  const res = await agentSelfHandlers({ config: devConfig(overrides), leadership, stats: () => ({}) }).self();
  return res.body as { Config: Record<string, unknown>; DebugConfig: Record<string, unknown> };
}

test('Config.SessionTTLMin is a Go duration in nanoseconds, as Patroni\'s adjust_ttl divides it (DebugConfig keeps "1s")', async () => {
  const body = await self({ sessionTtlMin: 1_000 });
  assert.equal(body.Config.SessionTTLMin, 1_000_000_000);
  // Patroni: min_ttl = (Config['SessionTTLMin'] or 10000000000) / 1000000000.0
  assert.equal(Number(body.Config.SessionTTLMin) / 1e9, 1);
  assert.equal(body.DebugConfig.SessionTTLMin, '1s');
  assert.equal((await self()).Config.SessionTTLMin, 10_000_000_000, 'the 10s floor Consul applies when session_ttl_min is unset');
});

test('Config has Consul\'s identity fields and AdvertiseAddr (armon/consul-api\'s agent join test reads it)', async () => {
  const c = (await self({ nodeName: 'n1', advertiseAddr: '10.1.2.3' })).Config;
  assert.deepEqual(Object.keys(c), ['Datacenter', 'PrimaryDatacenter', 'NodeName', 'NodeID', 'Revision', 'Server', 'Version', 'BuildDate', 'AdvertiseAddr', 'SessionTTLMin']);
  assert.equal(c.NodeName, 'n1');
  assert.equal(c.AdvertiseAddr, '10.1.2.3');
});
