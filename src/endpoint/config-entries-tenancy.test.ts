// An entry's own Namespace/Partition are not kind fields: decoding leaves them to the tenancy
// (takeEntryTenancy), so bootstrap entries, the secondary's exported-services gate and agent
// config validation accept entries naming any namespace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeConfigEntry, takeEntryTenancy } from './config-entries.ts';

test('top-level Namespace/Partition are taken out, nested ones still checked', () => {
  const raw = { Kind: 'service-defaults', Name: 'web', namespace: 'team-a', Partition: 'ap1', Protocol: 'http' };
  assert.deepEqual(decodeConfigEntry(raw), { Kind: 'service-defaults', Name: 'web', Protocol: 'http' });
  const copy: Record<string, unknown> = { ...raw };
  assert.deepEqual(takeEntryTenancy(copy), { namespace: 'team-a', partition: 'ap1' });
  assert.deepEqual(copy, { Kind: 'service-defaults', Name: 'web', Protocol: 'http' });
  assert.throws(() => decodeConfigEntry({ Kind: 'service-defaults', Name: 'web', UpstreamConfig: { Defaults: { Namespace: 'x' } } }),
    /invalid config key "UpstreamConfig\.Defaults\.Namespace", namespaces are a consul enterprise feature/);
});
