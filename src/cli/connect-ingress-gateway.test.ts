import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENVOY_FLAGS, planEnvoy } from './connect-envoy-flags.ts';
import { ingressRegistration } from './connect-ingress-gateway.ts';
import { parseFlags } from './flags.ts';

const plan = (args: string[]) => planEnvoy(parseFlags(ENVOY_FLAGS, args), {});

test('-gateway ingress plans the gateway: -register, -service and -address, no proxy ID needed', () => {
  const p = plan(['-gateway', 'ingress', '-register', '-service', 'ingress', '-address', '127.0.0.1:8888']);
  assert.ok('plan' in p, JSON.stringify(p));
  assert.deepEqual(p.plan.ingress, {
    name: 'ingress', proxyId: 'ingress', register: true, lan: { Address: '127.0.0.1', Port: 8888 }, bindAddresses: {}, deregisterAfterCritical: '6h',
  });
  // Without -service the name is the kind; an explicit -service terminating-gateway is kept.
  const dflt = plan(['-gateway', 'ingress', '-register']);
  assert.ok('plan' in dflt);
  assert.equal(dflt.plan.ingress?.name, 'ingress-gateway');
  assert.equal(dflt.plan.ingress?.proxyId, 'ingress-gateway');
  const named = plan(['-gateway', 'ingress', '-register', '-service', 'terminating-gateway']);
  assert.ok('plan' in named);
  assert.equal(named.plan.ingress?.name, 'terminating-gateway');
  assert.equal(named.plan.ingress?.proxyId, 'terminating-gateway');
  // -gateway api plans an API gateway named after its kind; -register still needs a gateway.
  const api = plan(['-gateway', 'api', '-register']);
  assert.ok('plan' in api);
  assert.deepEqual([api.plan.api?.name, api.plan.api?.proxyId, api.plan.ingress], ['api-gateway', 'api-gateway', undefined]);
  assert.deepEqual(plan(['-register', '-proxy-id', 'p']), { error: 'Auto-Registration can only be used for gateways' });
});

test('-register registers Kind ingress-gateway with a TCP check on the LAN address', () => {
  const reg = ingressRegistration({ name: 'ingress', proxyId: 'ingress', register: true, lan: { Address: '127.0.0.1', Port: 8888 }, bindAddresses: {}, deregisterAfterCritical: '6h' });
  assert.equal(reg.Kind, 'ingress-gateway');
  assert.equal(reg.Name, 'ingress');
  assert.equal(reg.Port, 8888);
  assert.deepEqual(reg.Check, { Name: 'ingress-gateway listening', TCP: '127.0.0.1:8888', Interval: '10s', DeregisterCriticalServiceAfter: '6h' });
});
