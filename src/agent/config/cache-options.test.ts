// The cache block as the agent builds it: Consul's defaults (no rate limit, a burst of 2), the
// values set, and values that are not strictly positive failing the build with Consul's text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './index.ts';
import { fakeInterfaces } from './test-fixtures.ts';

const load = (args: string[]) => loadConfig({ args, hostname: 'host-a', interfaces: fakeInterfaces });

test('cache.entry_fetch_rate and entry_fetch_max_burst: defaults, the values set, no warning', async () => {
  assert.deepEqual((await load(['-dev'])).config.cache, { rate: Infinity, maxBurst: 2 });
  const { config, warnings } = await load(['-dev', '-hcl', 'cache { entry_fetch_rate = 0.5, entry_fetch_max_burst = 4 }']);
  assert.deepEqual(config.cache, { rate: 0.5, maxBurst: 4 });
  assert.deepEqual(warnings.filter((w) => w.includes('entry_fetch')), []);
});

test('zero or less fails the build, as Consul\'s builder', async () => {
  await assert.rejects(load(['-dev', '-hcl', 'cache { entry_fetch_max_burst = 0 }']), { message: 'cache.entry_fetch_max_burst must be strictly positive, was: 0' });
  await assert.rejects(load(['-dev', '-hcl', 'cache { entry_fetch_rate = -1 }']), { message: 'cache.entry_fetch_rate must be strictly positive, was: -1' });
});
