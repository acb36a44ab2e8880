// `proconsul connect envoy` as a real process on a dev agent: for web's sidecar registration it
// runs the built-in data plane, which carries an upstream's bytes to web over mTLS; its admin
// endpoint answers /ready LIVE, /stats, and POST /quitquitquit ends it (exit 0). Consul's errors
// for a missing or ambiguous sidecar, and the refusals of -bootstrap, Envoy arguments and gateways.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { connectEnvoyCommand } from '../src/cli/connect-envoy.ts';
import { memoryIO } from '../src/cli/io.ts';
import { devConfig, startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { killAll, spawnProconsul } from './support/procs.ts';
import { exchange, ProxyRig } from './support/connect-proxy.ts';
import { until } from './support/wait.ts';

let dev: DevAgent;
let rig: ProxyRig;
let webUpstream = 0;

async function put(path: string, body: unknown): Promise<void> {
  const r = await fetch(`http://${dev.httpAddr}${path}`, { method: 'PUT', body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

async function envoy(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: dev.httpAddr } });
  const code = await connectEnvoyCommand.run(args, io);
  return { code, out: io.out, err: io.err };
}

before(async () => {
  dev = await startDevAgent();
  rig = new ProxyRig(dev.httpAddr);
  const webEcho = await rig.echo('web');
  await put('/v1/agent/service/register', {
    Name: 'web', ID: 'web', Port: webEcho, Connect: { SidecarService: { Address: '127.0.0.1', Port: await freePort() } },
  });
  webUpstream = await freePort();
  await rig.proxy(['-service', 'client', '-upstream', `web:${webUpstream}`]);
});

after(async () => {
  await rig?.close();
  await dev?.stop();
});

test('-sidecar-for web runs the built-in proxy: bytes reach web over mTLS, /ready says LIVE, POST /quitquitquit ends it', async () => {
  const [adminPort, readyPort] = [await freePort(), await freePort()];
  let log = '';
  const child = spawnProconsul(['connect', 'envoy', '-http-addr', dev.httpAddr, '-sidecar-for', 'web', '-admin-bind', `127.0.0.1:${adminPort}`, '-envoy-version', '1.30.0',
    '-envoy-ready-bind-address', '127.0.0.1', '-envoy-ready-bind-port', String(readyPort)], (t) => { log += t; });
  const exited = once(child, 'exit');
  try {
    const admin = `http://127.0.0.1:${adminPort}`;
    const ready = await until('/ready to answer LIVE', 20_000, async () => {
      const r = await fetch(`${admin}/ready`);
      const body = await r.text();
      return r.status === 200 ? body : undefined;
    }, { retryErrors: true, context: () => log });
    assert.equal(ready, 'LIVE\n');
    assert.match(log, /Envoy is not run: the built-in data plane/);
    // Envoy's ready listener answers /ready and nothing else.
    assert.equal(await (await fetch(`http://127.0.0.1:${readyPort}/ready`)).text(), 'LIVE\n');
    assert.equal((await fetch(`http://127.0.0.1:${readyPort}/quitquitquit`, { method: 'POST' })).status, 404);

    // The upstream resolves passing instances: the sidecar's TCP check must first find the listener up.
    await until('web\'s sidecar to pass its checks', 30_000, async () => {
      const list = await (await fetch(`http://${dev.httpAddr}/v1/health/connect/web?passing`)).json() as unknown[];
      return list.length > 0;
    }, { context: () => log });
    const socket = net.connect(webUpstream, '127.0.0.1');
    assert.equal(await exchange(socket, 'hello', 'web:hello'.length), 'web:hello');
    socket.destroy();

    const stats = await (await fetch(`${admin}/stats`)).text();
    assert.match(stats, /^server\.live: 1$/m);
    assert.match(stats, /^listener_manager\.total_listeners_active: 1$/m);
    assert.match(stats, /^server\.days_until_first_cert_expiring: \d+$/m);
    const prom = await (await fetch(`${admin}/stats/prometheus`)).text();
    assert.match(prom, /^# TYPE envoy_server_live gauge\nenvoy_server_live 1$/m);
    const missing = await fetch(`${admin}/clusters`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /^invalid path\. admin commands are:/);

    // The agent's TCP check of the sidecar (it passed above) connects and closes without a byte: no handshake error for it.
    assert.doesNotMatch(log, /failed to handshake/);

    const get = await fetch(`${admin}/quitquitquit`);
    assert.equal(get.status, 405);
    assert.equal(await get.text(), 'Method GET not allowed, POST required.');
    const post = await fetch(`${admin}/quitquitquit`, { method: 'POST' });
    assert.equal(post.status, 200);
    assert.equal(await post.text(), 'OK\n');
    const [code] = await exited;
    assert.equal(code, 0, log);
    await assert.rejects(fetch(`${admin}/ready`), 'the admin endpoint is closed');
    const after = net.connect(webUpstream, '127.0.0.1');
    assert.equal(await exchange(after, 'gone', 1), '', 'web\'s sidecar listener is closed');
  } finally {
    killAll([child]);
  }
});

test('a missing or ambiguous sidecar fails with Consul\'s texts', async () => {
  assert.deepEqual(await envoy(['-sidecar-for', 'nosuch']), { code: 1, out: '', err: 'No sidecar proxy registered for nosuch\n' });
  // -namespace/-partition default are accepted and (as any other value) not sent: the agent's CE handlers refuse ?ns.
  assert.deepEqual(await envoy(['-sidecar-for', 'nosuch', '-namespace', 'default', '-partition', 'default']),
    { code: 1, out: '', err: 'No sidecar proxy registered for nosuch\n' });
  for (const id of ['dup-a', 'dup-b']) {
    await put('/v1/agent/service/register', {
      Kind: 'connect-proxy', ID: id, Name: 'dup-proxy', Port: 1, Proxy: { DestinationServiceName: 'dup', DestinationServiceID: 'dup' },
    });
  }
  const dup = await envoy(['-sidecar-for', 'dup']);
  assert.equal(dup.code, 1);
  assert.equal(dup.err, 'More than one sidecar proxy registered for dup.\n    Start proxy with -proxy-id and one of the following IDs: dup-a, dup-b\n');
  const unknown = await envoy(['-proxy-id', 'nosuch-proxy']);
  assert.equal(unknown.err, 'failed fetch proxy config from local agent: Unexpected response code: 404 (unknown service ID: nosuch-proxy)\n');
  assert.equal((await envoy(['-proxy-id', 'web'])).err, 'service is not a Connect proxy or gateway\n');
  await put('/v1/agent/service/register', { Kind: 'mesh-gateway', ID: 'mgw', Name: 'mesh-gateway', Port: 1 });
  assert.equal((await envoy(['-proxy-id', 'mgw'])).err, 'mgw is a mesh-gateway: run it with -gateway mesh -proxy-id mgw\n');
});

test('with ACLs on and no token, Consul\'s warning precedes the refused read of the registration', async () => {
  const base = devConfig();
  const acl = await startDevAgent({ config: { acl: { ...base.acl, enabled: true, defaultPolicy: 'deny', tokens: { ...base.acl.tokens, initialManagement: 'root' } } } });
  try {
    const io = memoryIO({ env: { CONSUL_HTTP_ADDR: acl.httpAddr } });
    assert.equal(await connectEnvoyCommand.run(['-proxy-id', 'web-sidecar-proxy'], io), 1);
    assert.match(io.err, /^No ACL token was provided to Envoy\. Because the ACL system is enabled, pass a suitable ACL token for this service to Envoy to avoid potential communication failure\.\nfailed fetch proxy config from local agent: /);
    // -token-file is read as Consul reads it: the token is used, so no warning, and the registration read is allowed (there is none).
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-envoy-')), 'token');
    fs.writeFileSync(file, 'root\n');
    const withToken = memoryIO({ env: { CONSUL_HTTP_ADDR: acl.httpAddr } });
    assert.equal(await connectEnvoyCommand.run(['-token-file', file, '-proxy-id', 'web-sidecar-proxy'], withToken), 1);
    assert.equal(withToken.err, 'failed fetch proxy config from local agent: Unexpected response code: 404 (unknown service ID: web-sidecar-proxy)\n');
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  } finally {
    await acl.stop();
  }
});

test('-bootstrap and Envoy arguments are refused with exit 1, as is an API gateway not registered; a bad -address is a flag error', async () => {
  const boot = await envoy(['-sidecar-for', 'web', '-bootstrap']);
  assert.equal(boot.code, 1);
  assert.match(boot.err, /^-bootstrap: Envoy is not used: Proconsul runs its built-in data plane in its place and serves no xDS/);
  assert.equal(boot.out, '', 'no bootstrap JSON');
  const pass = await envoy(['-sidecar-for', 'web', '--', '--log-level', 'debug']);
  assert.equal(pass.code, 1);
  assert.match(pass.err, /^Cannot pass arguments to Envoy \(--log-level debug\)/);
  // An API gateway runs; without -register one must be registered already.
  const gw = await envoy(['-gateway', 'api']);
  assert.equal(gw.code, 1);
  assert.equal(gw.err, 'No api-gateway services registered with this agent\n');
  assert.equal((await envoy(['-gateway', 'egress'])).err, 'Gateway must be one of: api, terminating, mesh, or ingress\n');
  assert.equal((await envoy([])).err, 'No proxy ID specified. One of -proxy-id, -sidecar-for, or -gateway is required\n');
  const addr = await envoy(['-sidecar-for', 'web', '-address', 'nohost']);
  assert.equal(addr.code, 1);
  assert.match(addr.err, /^invalid value "nohost" for flag -address: Error parsing address "nohost": not an IP address\nUsage:\n/);
});

test('SIGTERM while the agent has not answered yet ends the command at once (exit 0, no error printed)', async () => {
  // An agent that accepts and never answers: the registration read hangs.
  const silent = net.createServer((s) => { accepted = true; s.on('error', () => undefined); });
  let accepted = false;
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  let log = '';
  const child = spawnProconsul(['connect', 'envoy', '-http-addr', `127.0.0.1:${(silent.address() as net.AddressInfo).port}`, '-sidecar-for', 'web',
    '-admin-bind', `127.0.0.1:${await freePort()}`], (t) => { log += t; });
  const exited = once(child, 'exit');
  try {
    await until('the command to ask the agent', 20_000, async () => accepted);
    child.kill('SIGTERM');
    await until('the command to exit', 10_000, async () => child.exitCode !== null || child.signalCode !== null, { context: () => log });
    assert.deepEqual(await exited, [0, null], log);
    assert.equal(log, '');
  } finally {
    killAll([child]);
    silent.close();
  }
});

test('a busy -admin-bind port fails the start clearly (exit 1)', async () => {
  const busy = net.createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const r = await envoy(['-sidecar-for', 'web', '-admin-bind', `127.0.0.1:${port}`]);
    assert.deepEqual(r, { code: 1, out: '', err: `Failed to start the admin endpoint: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n` });
  } finally {
    busy.close();
  }
});
