import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meshRegistration } from './connect-mesh-gateway.ts';

test('-register of a mesh gateway: Kind mesh-gateway, lan/wan tagged addresses, its TCP check, and the WAN federation meta with -expose-servers', () => {
  const plan = {
    name: 'mesh-gateway', proxyId: 'mesh-gateway', register: true, lan: { Address: '127.0.0.1', Port: 9443 }, wan: { Address: '198.51.100.7', Port: 443 },
    bindAddresses: {}, deregisterAfterCritical: '6h', exposeServers: true,
  };
  // 198.51.100.7 is not bindable here: no bind settings.
  assert.deepEqual(meshRegistration(plan), {
    Kind: 'mesh-gateway', ID: 'mesh-gateway', Name: 'mesh-gateway', Address: '127.0.0.1', Port: 9443,
    TaggedAddresses: { lan: { Address: '127.0.0.1', Port: 9443 }, wan: { Address: '198.51.100.7', Port: 443 } },
    Meta: { 'consul-wan-federation': '1' },
    Check: { Name: 'mesh-gateway listening', TCP: '127.0.0.1:9443', Interval: '10s', DeregisterCriticalServiceAfter: '6h' },
  });
  const plain = meshRegistration({ ...plan, exposeServers: false, wan: { Address: '127.0.0.1', Port: 9444 } });
  assert.equal(plain.Meta, undefined);
  assert.deepEqual(plain.Proxy, { Config: { envoy_gateway_no_default_bind: true, envoy_gateway_bind_tagged_addresses: true } });
});
