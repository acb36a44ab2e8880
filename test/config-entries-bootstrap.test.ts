// config_entries.bootstrap on a real dev server: the leader writes the entries once it leads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent } from './support/agent.ts';
import { until } from './support/wait.ts';

test('a dev server writes its bootstrap entries once it leads', async () => {
  const dev = await startDevAgent({
    config: {
      configEntriesBootstrap: [
        { kind: 'proxy-defaults', name: 'global', config: [{ protocol: 'http' }] },
        { Kind: 'service-defaults', Name: 'web', Protocol: 'grpc' },
      ],
    },
  });
  try {
    const get = async (path: string) => {
      const res = await fetch(`http://${dev.httpAddr}/v1/config/${path}`);
      return res.status === 200 ? await res.json() as Record<string, unknown> : undefined;
    };
    const proxy = await until('the bootstrapped proxy-defaults', 10_000, () => get('proxy-defaults/global'));
    assert.deepEqual(proxy.Config, { protocol: 'http' });
    assert.equal((await get('service-defaults/web'))?.Protocol, 'grpc');
  } finally {
    await dev.stop();
  }
});
