// limits.request_limits as the agent builds it: disabled with no limit by default, the values set
// (HCL as Consul's docs write it), and an unknown mode failing the build with Consul's text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './index.ts';
import { fakeInterfaces } from './test-fixtures.ts';

const load = (args: string[]) => loadConfig({ args, hostname: 'host-a', interfaces: fakeInterfaces });

test('defaults: disabled, read_rate and write_rate -1 (no limit)', async () => {
  const { config } = await load(['-dev']);
  assert.deepEqual(config.limits.requestLimits, { mode: 'disabled', readRate: -1, writeRate: -1 });
});

test('the values set, without a warning that they are not acted on', async () => {
  const { config, warnings } = await load(['-dev', '-hcl', 'limits { request_limits { mode = "enforcing", read_rate = 500, write_rate = 0.5 } }']);
  assert.deepEqual(config.limits.requestLimits, { mode: 'enforcing', readRate: 500, writeRate: 0.5 });
  assert.deepEqual(warnings.filter((w) => w.includes('request_limits')), []);
});

test('an unknown mode fails the build, as Consul\'s requestsLimitsModeVal', async () => {
  await assert.rejects(load(['-dev', '-hcl', 'limits { request_limits { mode = "strict" } }']), {
    message: '1 error occurred:\n\t* limits.request_limits.mode: invalid mode: "strict"\n\n',
  });
});

test('limits.rpc_rate and rpc_max_burst: no limit and 1000 by default, the values set, no warning', async () => {
  const def = (await load(['-dev'])).config.limits;
  assert.deepEqual([def.rpcRate, def.rpcMaxBurst], [-1, 1000]);
  const { config, warnings } = await load(['-dev', '-hcl', 'limits { rpc_rate = 2.5, rpc_max_burst = 7 }']);
  assert.deepEqual([config.limits.rpcRate, config.limits.rpcMaxBurst], [2.5, 7]);
  assert.deepEqual(warnings.filter((w) => w.includes('rpc_')), []);
});

test('limits.rpc_handshake_timeout and rpc_client_timeout: 5s and 60s by default, the values set, no warning', async () => {
  const def = (await load(['-dev'])).config.limits;
  assert.deepEqual([def.rpcHandshakeTimeout, def.rpcClientTimeout], [5_000, 60_000]);
  const { config, warnings } = await load(['-dev', '-hcl', 'limits { rpc_handshake_timeout = "250ms", rpc_client_timeout = "0s" }']);
  assert.deepEqual([config.limits.rpcHandshakeTimeout, config.limits.rpcClientTimeout], [250, 0]);
  assert.deepEqual(warnings.filter((w) => w.includes('rpc_handshake') || w.includes('rpc_client')), []);
});
