import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENVOY_FLAGS, addressFlagError, parseBindAddress, parseServiceAddress, planEnvoy, splitHostPort } from './connect-envoy-flags.ts';
import { parseFlags } from './flags.ts';

const plan = (args: string[], env: NodeJS.ProcessEnv = {}) => planEnvoy(parseFlags(ENVOY_FLAGS, args), env);
const error = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = plan(args, env);
  return 'error' in r ? r.error : null;
};

test('every flag of Consul\'s connect envoy parses, with its defaults', () => {
  const f = parseFlags(ENVOY_FLAGS, [
    '-proxy-id', 'p', '-node-name', 'n', '-mesh-gateway', '-gateway', 'mesh', '-sidecar-for', 's', '-envoy-binary', '/e', '-admin-access-log-path', '/l',
    '-admin-bind', '1.2.3.4:1', '-bootstrap', '-no-central-config', '-grpc-addr', 'g:1', '-grpc-ca-file', 'c', '-grpc-ca-path', 'c', '-envoy-version', '1.2.3',
    '-register', '-address', '10.0.0.1:443', '-envoy-ready-bind-address', '127.0.0.1', '-envoy-ready-bind-port', '21000', '-wan-address', '10.0.0.2',
    '-bind-address', 'a=10.0.0.3:1', '-bind-address', 'b=10.0.0.4:2', '-service', 'gw', '-expose-servers', '-deregister-after-critical', '1h',
    '-omit-deprecated-tags', '-prometheus-backend-port', '1', '-prometheus-scrape-path', '/m', '-prometheus-ca-file', 'a', '-prometheus-ca-path', 'b',
    '-prometheus-cert-file', 'c', '-prometheus-key-file', 'd', '-ignore-envoy-compatibility', '-enable-config-gen-logging',
    '-http-addr', 'h:1', '-token', 't', '-token-file', 'tf', '-ca-file', 'x', '-ca-path', 'y', '-client-cert', 'z', '-client-key', 'k', '-tls-server-name', 'sn',
    '-namespace', 'ns', '-partition', 'pt',
  ]);
  assert.equal(f.given.size, ENVOY_FLAGS.length);
  assert.deepEqual(f.values['bind-address'], ['a=10.0.0.3:1', 'b=10.0.0.4:2']);
  const d = parseFlags(ENVOY_FLAGS, []).values;
  assert.equal(d['admin-bind'], 'localhost:19000');
  assert.equal(d['admin-access-log-path'], '/dev/null');
  assert.equal(d['deregister-after-critical'], '6h');
  assert.equal(d['prometheus-scrape-path'], '/metrics');
});

test('addresses parse as Consul\'s ServiceAddressValue: the port defaults to 8443, a host name is refused', () => {
  assert.deepEqual(parseServiceAddress('10.0.0.1:443'), { Address: '10.0.0.1', Port: 443 });
  assert.deepEqual(parseServiceAddress('10.0.0.1'), { Address: '10.0.0.1', Port: 8443 });
  assert.deepEqual(parseServiceAddress('[::1]:80'), { Address: '::1', Port: 80 });
  // Go's SplitHostPort finds too many colons in a bare IPv6 address, so Consul refuses it too.
  assert.throws(() => parseServiceAddress('::1'), { message: 'Error parsing address "::1": address ::1: too many colons in address' });
  assert.throws(() => parseServiceAddress('example.com'), { message: 'Error parsing address "example.com": not an IP address' });
  assert.throws(() => parseServiceAddress('1.2.3.4:x'), { message: 'Error parsing port "x": strconv.Atoi: parsing "x": invalid syntax' });
  assert.deepEqual(parseBindAddress('lan=10.0.0.1:1'), ['lan', { Address: '10.0.0.1', Port: 1 }]);
  assert.throws(() => parseBindAddress('10.0.0.1:1'), { message: 'Missing "=" in argument: 10.0.0.1:1' });
  assert.throws(() => splitHostPort('a:b:c'), { message: 'address a:b:c: too many colons in address' });
  assert.equal(addressFlagError(parseFlags(ENVOY_FLAGS, ['-wan-address', '1.2.3.4', '-bind-address', 'x'])), 'invalid value "x" for flag -bind-address: Missing "=" in argument: x');
  assert.equal(addressFlagError(parseFlags(ENVOY_FLAGS, ['-address', '1.2.3.4:1'])), null);
});

test('Consul\'s checks come in its order and with its texts', () => {
  assert.equal(error(['-node-name', 'n']), "'-node-name' requires '-proxy-id'");
  assert.equal(error(['-mesh-gateway', '-gateway', 'mesh']), 'The mesh-gateway flag is deprecated and cannot be used alongside the gateway flag');
  assert.equal(error(['-expose-servers', '-gateway', 'ingress']), "'-expose-servers' can only be used for mesh gateways");
  assert.equal(error(['-expose-servers', '-mesh-gateway']), "'-expose-servers' requires '-register'");
  assert.equal(error(['-gateway', 'nope']), 'Gateway must be one of: api, terminating, mesh, or ingress');
  assert.equal(error([]), 'No proxy ID specified. One of -proxy-id, -sidecar-for, or -gateway is required');
  assert.equal(error(['-sidecar-for', 'web', '-prometheus-cert-file', 'c']),
    'Must provide a CA (-prometheus-ca-file or -prometheus-ca-path) as well as -prometheus-cert-file and -prometheus-key-file to enable TLS for prometheus metrics');
  assert.equal(error(['-sidecar-for', 'web', '-register']), 'Auto-Registration can only be used for gateways');
  assert.equal(error(['-sidecar-for', 'web', '-admin-bind', 'localhost']), 'Invalid Consul HTTP address: address localhost: missing port in address');
  // Envoy cannot bind an admin port without an IP (Consul hands it "<nil>"): no host is not every interface.
  assert.equal(error(['-sidecar-for', 'web', '-admin-bind', ':19000']), 'Failed to resolve admin bind address: no host in ":19000"');
});

test('what the built-in data plane cannot do is refused: -bootstrap, Envoy arguments, -node-name', () => {
  assert.equal(error(['-gateway', 'api']), null);
  assert.match(error(['-sidecar-for', 'web', '-bootstrap'])!, /^-bootstrap: Envoy is not used: .*no Envoy bootstrap configuration to generate/);
  assert.match(error(['-sidecar-for', 'web', '--', '-l', 'debug'])!, /^Cannot pass arguments to Envoy \(-l debug\): /);
  assert.match(error(['-proxy-id', 'p', '-node-name', 'n'])!, /^-node-name: the built-in data plane reads its proxy registration from the local agent/);
});

test('a plan takes the proxy from flags or CONNECT_* variables, the admin and ready addresses, and warns of ignored flags', () => {
  const r = plan(['-admin-bind', '127.0.0.1:0', '-envoy-ready-bind-address', '127.0.0.2', '-envoy-ready-bind-port', '21000', '-grpc-addr', 'localhost:8502',
    '-admin-access-log-path', '/tmp/a', '-envoy-version', '1.2.3'], { CONNECT_SIDECAR_FOR: 'web' });
  assert.ok('plan' in r);
  assert.deepEqual(r.plan, {
    proxyId: '', sidecarFor: 'web', admin: { host: '127.0.0.1', port: 0 }, ready: { host: '127.0.0.2', port: 21000 },
    warnings: [
      '-admin-access-log-path is deprecated and will be removed in a future version of Consul. Configure access logging with proxy-defaults.accessLogs.',
      'Ignoring -grpc-addr: Envoy is not used: Proconsul runs its built-in data plane in its place and serves no xDS.',
    ],
  });
  const ns = plan(['-sidecar-for', 'web', '-namespace', 'team', '-partition', 'default']);
  assert.ok('plan' in ns);
  assert.deepEqual(ns.plan.warnings, ['Ignoring -namespace: the built-in data plane looks up its proxy in the default namespace and partition.']);
  const byId = plan([], { CONNECT_PROXY_ID: 'web-sidecar-proxy' });
  assert.ok('plan' in byId);
  assert.equal(byId.plan.proxyId, 'web-sidecar-proxy');
  assert.deepEqual(byId.plan.admin, { host: 'localhost', port: 19000 });
  assert.equal(byId.plan.ready, undefined);
});

test('-gateway terminating is planned rather than refused: registered with -register (ID and name from -service), else looked up', () => {
  const r = plan(['-gateway', 'terminating', '-register', '-service', 'tgw', '-address', '127.0.0.1:9443', '-wan-address', '10.0.0.2', '-bind-address', 'a=127.0.0.1:9444']);
  assert.ok('plan' in r && r.plan.terminating);
  assert.deepEqual(r.plan.terminating, {
    name: 'tgw', proxyId: 'tgw', register: true, lan: { Address: '127.0.0.1', Port: 9443 }, wan: { Address: '10.0.0.2', Port: 8443 },
    bindAddresses: { a: { Address: '127.0.0.1', Port: 9444 } }, deregisterAfterCritical: '6h',
  });
  const lookedUp = plan(['-gateway', 'terminating']);
  assert.ok('plan' in lookedUp && lookedUp.plan.terminating);
  assert.deepEqual([lookedUp.plan.terminating.name, lookedUp.plan.terminating.proxyId, lookedUp.plan.terminating.register], ['terminating-gateway', '', false]);
  assert.match(error(['-gateway', 'terminating', '-bootstrap'])!, /^-bootstrap: /);
});

test('-gateway mesh and -mesh-gateway are planned: named mesh-gateway unless -service, -expose-servers kept', () => {
  const r = plan(['-mesh-gateway', '-register', '-expose-servers', '-address', '127.0.0.1:9443', '-wan-address', '10.0.0.2:443']);
  assert.ok('plan' in r && r.plan.mesh);
  assert.deepEqual(r.plan.mesh, {
    name: 'mesh-gateway', proxyId: 'mesh-gateway', register: true, lan: { Address: '127.0.0.1', Port: 9443 }, wan: { Address: '10.0.0.2', Port: 443 },
    bindAddresses: {}, deregisterAfterCritical: '6h', exposeServers: true,
  });
  const named = plan(['-gateway', 'mesh', '-register', '-service', 'mgw']);
  assert.ok('plan' in named && named.plan.mesh);
  assert.deepEqual([named.plan.mesh.name, named.plan.mesh.proxyId, named.plan.mesh.exposeServers], ['mgw', 'mgw', false]);
  const lookedUp = plan(['-gateway', 'mesh']);
  assert.ok('plan' in lookedUp && lookedUp.plan.mesh);
  assert.deepEqual([lookedUp.plan.mesh.name, lookedUp.plan.mesh.proxyId], ['mesh-gateway', '']);
});
