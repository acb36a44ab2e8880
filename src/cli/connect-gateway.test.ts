import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentService } from '../api/index.ts';
import { canBind, gatewayBinds, gatewayRegistration, lanBindError, type GatewayPlan } from './connect-gateway.ts';

const plan = (p: Partial<GatewayPlan>): GatewayPlan => ({ name: 'tgw', proxyId: 'tgw', register: true, bindAddresses: {}, deregisterAfterCritical: '6h', ...p });

test('-register with -address registers Kind terminating-gateway with the LAN tagged address and a TCP check on it', () => {
  assert.deepEqual(gatewayRegistration(plan({ lan: { Address: '10.0.0.1', Port: 9443 } })), {
    Kind: 'terminating-gateway', ID: 'tgw', Name: 'tgw', Address: '10.0.0.1', Port: 9443,
    TaggedAddresses: { lan: { Address: '10.0.0.1', Port: 9443 } },
    Check: { Name: 'terminating-gateway listening', TCP: '10.0.0.1:9443', Interval: '10s', DeregisterCriticalServiceAfter: '6h' },
  });
});

test('without -address the gateway is registered on port 8443 with no address, checked on 127.0.0.1', () => {
  const reg = gatewayRegistration(plan({ deregisterAfterCritical: '1h' }));
  assert.equal(reg.Address, '');
  assert.equal(reg.Port, 8443);
  assert.equal(reg.TaggedAddresses, undefined);
  assert.deepEqual(reg.Check, { Name: 'terminating-gateway listening', TCP: '127.0.0.1:8443', Interval: '10s', DeregisterCriticalServiceAfter: '1h' });
});

test('-bind-address, or LAN and WAN addresses this host can both bind, become the bind settings of Proxy.Config', () => {
  const binds = gatewayRegistration(plan({ bindAddresses: { a: { Address: '10.0.0.3', Port: 1 } } }));
  assert.deepEqual(binds.Proxy, { Config: { envoy_gateway_no_default_bind: true, envoy_gateway_bind_addresses: { a: { Address: '10.0.0.3', Port: 1 } } } });
  const lanWan = plan({ lan: { Address: '10.0.0.1', Port: 443 }, wan: { Address: '1.2.3.4', Port: 443 } });
  const both = gatewayRegistration(lanWan, () => true);
  assert.deepEqual(both.Proxy, { Config: { envoy_gateway_no_default_bind: true, envoy_gateway_bind_tagged_addresses: true } });
  assert.equal(gatewayRegistration(lanWan, (a) => a === '10.0.0.1').Proxy, undefined);
  assert.deepEqual(both.TaggedAddresses, { lan: { Address: '10.0.0.1', Port: 443 }, wan: { Address: '1.2.3.4', Port: 443 } });
});

test('the gateway binds its bind addresses, else its tagged addresses when told to, else its address (0.0.0.0 when none) and port', () => {
  const svc = (s: Partial<AgentService>): AgentService => ({ ID: 'tgw', Service: 'tgw', Address: '', Port: 8443, ...s }) as AgentService;
  assert.deepEqual(gatewayBinds(svc({})), [{ host: '0.0.0.0', port: 8443 }]);
  assert.deepEqual(gatewayBinds(svc({ Address: '127.0.0.1', Port: 9000 })), [{ host: '127.0.0.1', port: 9000 }]);
  assert.deepEqual(gatewayBinds(svc({ Proxy: { Config: { envoy_gateway_bind_addresses: { a: { Address: '127.0.0.2', Port: 1 }, b: { Address: '127.0.0.3', Port: 2 } } } } } as never)),
    [{ host: '127.0.0.2', port: 1 }, { host: '127.0.0.3', port: 2 }]);
  assert.deepEqual(gatewayBinds(svc({
    Address: '127.0.0.1', Port: 9000, TaggedAddresses: { lan: { Address: '127.0.0.1', Port: 9000 }, wan: { Address: '127.0.0.4', Port: 9001 } },
    Proxy: { Config: { envoy_gateway_bind_tagged_addresses: true } },
  } as never)), [{ host: '127.0.0.1', port: 9000 }, { host: '127.0.0.4', port: 9001 }]);
});

test('a LAN address this host cannot bind is refused unless -bind-address overrides it (Consul\'s canBind)', () => {
  const ifaces = { lo: [{ address: '127.0.0.1' }] } as never;
  assert.equal(canBind('127.0.0.1', ifaces), true);
  assert.equal(canBind('0.0.0.0', ifaces), true);
  assert.equal(canBind('10.9.9.9', ifaces), false);
  assert.equal(canBind('', ifaces), false);
  assert.equal(canBind('example.com', ifaces), false);
  const far = plan({ lan: { Address: '10.9.9.9', Port: 443 } });
  assert.equal(lanBindError(far, (a) => canBind(a, ifaces)),
    'The LAN address "10.9.9.9" will not be bindable. Either set a bindable address or override the bind addresses with -bind-address');
  assert.equal(lanBindError({ ...far, bindAddresses: { a: { Address: '127.0.0.1', Port: 1 } } }, (a) => canBind(a, ifaces)), null);
  assert.equal(lanBindError(plan({}), () => false), null);
});
