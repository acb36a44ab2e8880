import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsulClient } from '../api/index.ts';
import { connectProxyCommand, proxyConfigFromFlags } from './connect-proxy.ts';
import { parseFlags } from './flags.ts';
import { memoryIO } from './io.ts';

const noClient = {} as ConsulClient;

test('flag mode prints Consul\'s configuration banner and builds the listener and sorted upstreams', async () => {
  const io = memoryIO();
  const flags = parseFlags(connectProxyCommand.flags, ['-service', 'web', '-service-addr', '127.0.0.1:8080', '-listen', '127.0.0.1:21000', '-upstream', 'db:9191', '-upstream', 'cache:127.0.0.2:9192']);
  const { cfg, agent } = await proxyConfigFromFlags(noClient, flags, io);
  assert.equal(agent, undefined);
  assert.equal(io.out, [
    '    Configuration mode: Flags',
    '               Service: web',
    '              Upstream: cache => 127.0.0.2:9192',
    '              Upstream: db => :9191',
    '       Public listener: 127.0.0.1:21000 => 127.0.0.1:8080',
    '',
  ].join('\n'));
  assert.deepEqual(cfg.Upstreams.map((u) => `${u.DestinationName}@${u.LocalBindAddress}:${u.LocalBindPort}`), ['cache@127.0.0.2:9192', 'db@127.0.0.1:9191']);
  assert.equal(cfg.PublicListener?.LocalServiceAddress, '127.0.0.1:8080');
});

test('missing -service, -listen without -service-addr and a bad -upstream fail as Consul does', async () => {
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: '127.0.0.1:1' } });
  assert.equal(await connectProxyCommand.run([], io), 1);
  assert.equal(io.err, '==> Error preparing configuration: -service or -proxy-id must be specified so that proxy can configure itself.\n');
  const io2 = memoryIO({ env: { CONSUL_HTTP_ADDR: '127.0.0.1:1' } });
  assert.equal(await connectProxyCommand.run(['-service', 'web', '-listen', ':1'], io2), 1);
  assert.match(io2.err, /-service-addr must be specified with -listen so the proxy knows the backend service address\.\n$/);
  const io3 = memoryIO();
  assert.equal(await connectProxyCommand.run(['-service', 'web', '-upstream', 'db'], io3), 1);
  assert.match(io3.err, /^invalid value "db" for flag -upstream: Upstream value should be name:addr in "db"\nUsage:\n/);
  const io4 = memoryIO();
  assert.equal(await connectProxyCommand.run(['-service', 'web', 'extra'], io4), 1);
  assert.equal(io4.err, '==> Should have no non-flag arguments.\n');
});
