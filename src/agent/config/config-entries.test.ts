// config_entries.bootstrap as the agent builds it: the entries kept as written (HCL blocks as
// Consul's docs write them), and a bad entry failing the build with Consul's builder text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './index.ts';
import { fakeInterfaces } from './test-fixtures.ts';

const load = (args: string[]) => loadConfig({ args, hostname: 'host-a', interfaces: fakeInterfaces, readOnly: true });

test('bootstrap entries are kept, without a warning that they are not acted on', async () => {
  assert.deepEqual((await load(['-dev'])).config.configEntriesBootstrap, []);
  const { config, warnings } = await load(['-dev', '-hcl', `config_entries {
  bootstrap {
    kind = "proxy-defaults"
    name = "global"
    config { protocol = "http" }
  }
  bootstrap { kind = "service-defaults", name = "web", protocol = "grpc" }
}`]);
  assert.deepEqual(config.configEntriesBootstrap, [
    { kind: 'proxy-defaults', name: 'global', config: [{ protocol: 'http' }] },
    { kind: 'service-defaults', name: 'web', protocol: 'grpc' },
  ]);
  assert.deepEqual(warnings.filter((w) => w.includes('config_entries')), []);
});

test('a bad entry fails the build: config_entries.bootstrap[i] and the decode or validation error', async () => {
  await assert.rejects(load(['-dev', '-hcl', 'config_entries { bootstrap { kind = "service-defaults", name = "a" } bootstrap { kind = "nope", name = "b" } }']),
    { message: 'config_entries.bootstrap[1]: invalid config entry kind: nope' });
  await assert.rejects(load(['-dev', '-hcl', 'config_entries { bootstrap { kind = "proxy-defaults", name = "web" } }']),
    { message: 'config_entries.bootstrap[0]: invalid name ("web"), only "global" is supported' });
});
