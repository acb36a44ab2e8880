import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from './index.ts';
import { fakeInterfaces, fixtureDir } from './test-fixtures.ts';

const load = (args: string[]) => loadConfig({ args, hostname: 'host-a', interfaces: fakeInterfaces });

test('servers get a WAN pool with gossip_wan defaults (memberlist\'s WAN config), clients and ports.serf_wan = -1 none', async () => {
  const dir = await fixtureDir();
  const server = (await load(['-server', '-data-dir', dir])).config.gossipWan!;
  assert.deepEqual(server.timings, { gossipIntervalMs: 500, gossipNodes: 4, retransmitMult: 4, probeIntervalMs: 5000, probeTimeoutMs: 3000, suspicionMult: 6 });
  assert.deepEqual([server.bindAddr, server.bindPort, server.advertiseAddr, server.retryIntervalMs, server.retryMax], ['0.0.0.0', 8302, '10.1.2.3', 30_000, 0]);
  assert.equal(server.reconnectTimeoutMs, 72 * 3_600_000);
  assert.equal((await load(['-data-dir', dir])).config.gossipWan, undefined);
  assert.equal((await load(['-server', '-data-dir', dir, '-serf-wan-port', '-1'])).config.gossipWan, undefined);
});

test('WAN flags and keys: -retry-join-wan, -join-wan (folded in, with Consul\'s deprecation warning), intervals, bind and advertise', async () => {
  const dir = await fixtureDir();
  const { config, warnings } = await load(['-server', '-data-dir', dir, '-retry-join-wan', '10.9.0.1', '-join-wan', '10.9.0.2:8302',
    '-retry-interval-wan', '5s', '-retry-max-wan', '3', '-serf-wan-bind', '10.1.2.3', '-advertise-wan', '192.0.2.7', '-hcl', 'gossip_wan { probe_interval = "1s" }']);
  const w = config.gossipWan!;
  assert.deepEqual(w.retryJoin.sort(), ['10.9.0.1', '10.9.0.2:8302']);
  assert.deepEqual([w.retryIntervalMs, w.retryMax, w.bindAddr, w.advertiseAddr, w.timings.probeIntervalMs], [5000, 3, '10.1.2.3', '192.0.2.7', 1000]);
  assert.ok(warnings.includes("The '-join-wan' flag is deprecated. Use the '-retry-join-wan' flag instead."), warnings.join('\n'));
  assert.ok(!warnings.some((x) => /not implemented/.test(x)), warnings.join('\n'));
  await assert.rejects(load(['-server', '-data-dir', dir, '-hcl', 'reconnect_timeout_wan = "1h"']),
    (e: Error) => e instanceof ConfigError && /reconnect_timeout_wan must be >= 8h0m0s/.test(e.message));
});
