import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsulClient } from '../../api/index.ts';
import { findSidecarProxy } from './sidecar.ts';

const agentWith = (services: Record<string, unknown>) => ({ agent: { services: async () => ({ data: services }) } }) as unknown as ConsulClient;

test('the sidecar is matched by its DestinationServiceID ignoring case on both sides, as Consul\'s strings.EqualFold', async () => {
  const c = agentWith({
    'Web-sidecar-proxy': { ID: 'Web-sidecar-proxy', Kind: 'connect-proxy', Proxy: { DestinationServiceID: 'Web' } },
    Web: { ID: 'Web', Kind: '' },
  });
  assert.equal(await findSidecarProxy(c, 'Web'), 'Web-sidecar-proxy');
  assert.equal(await findSidecarProxy(c, 'WEB'), 'Web-sidecar-proxy');
  assert.equal(await findSidecarProxy(c, 'web'), 'Web-sidecar-proxy');
  await assert.rejects(findSidecarProxy(c, 'api'), { message: 'No sidecar proxy registered for api' });
});
