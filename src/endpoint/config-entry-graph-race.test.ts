// Two chain-kind writes planned at the same revision, each fine alone, cannot both commit a
// graph that does not compile (Consul checks the graph in its serial FSM apply).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from '../../test/support/agent.ts';

let dev: DevAgent;
before(async () => {
  dev = await startDevAgent();
});
after(() => dev.stop());

test('a splitter and a tcp service-defaults written at once: one of them is refused', async () => {
  const { configEntries } = dev.agent.endpoints;
  await configEntries.apply({ Kind: 'service-defaults', Name: 'race-web', Protocol: 'http' }, undefined);
  // Both plans run before either commit is applied: each sees the other's entry absent or old.
  const results = await Promise.allSettled([
    configEntries.apply({ Kind: 'service-splitter', Name: 'race-web', Splits: [{ Weight: 100 }] }, undefined),
    configEntries.apply({ Kind: 'service-defaults', Name: 'race-web', Protocol: 'tcp' }, undefined),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected']);
  assert.match(String((results[1] as PromiseRejectedResult).reason?.message), /does not permit advanced routing or splitting behavior/);
  const entries = dev.agent.replica.configEntries;
  assert.equal(entries.get('service-defaults', 'race-web')?.Protocol, 'http', 'the stored graph still compiles');
  assert.ok(entries.get('service-splitter', 'race-web'));
});
