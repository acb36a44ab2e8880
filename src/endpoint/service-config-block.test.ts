// A blocked central-config resolution wakes only when its answer changes (Consul's priorHash check).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from '../../test/support/agent.ts';

let dev: DevAgent;
before(async () => {
  dev = await startDevAgent();
});
after(() => dev.stop());

test('a blocked resolution stays blocked through another service\'s defaults and answers its own change', async () => {
  const { configEntries } = dev.agent.endpoints;
  await configEntries.apply({ Kind: 'service-defaults', Name: 'blk-web', Protocol: 'http' }, undefined);
  const req = { Name: 'blk-web', UpstreamServiceNames: [{ ServiceName: { Name: 'blk-db' } }] };
  const opts = (minIndex: number) => ({ minIndex, waitMs: 60_000, consistency: 'default' as const, token: '', authz: undefined });
  const now = await configEntries.resolveServiceConfig(req, opts(0));
  let settled: { index: number; protocol: unknown } | undefined;
  const blocked = configEntries.resolveServiceConfig(req, opts(now.meta.index)).then((r) => {
    settled = { index: r.meta.index, protocol: r.value.UpstreamConfigs?.find((u) => u.Upstream.ServiceName.Name === 'blk-db')?.Config.protocol };
  });
  await configEntries.apply({ Kind: 'service-defaults', Name: 'blk-unrelated', Protocol: 'grpc' }, undefined);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(settled, undefined, 'an unrelated service-defaults write does not answer the blocked read');
  await configEntries.apply({ Kind: 'service-defaults', Name: 'blk-db', Protocol: 'grpc' }, undefined);
  await blocked;
  const got = settled as { index: number; protocol: unknown } | undefined;
  assert.equal(got?.protocol, 'grpc');
  assert.ok(got!.index > now.meta.index);
});
