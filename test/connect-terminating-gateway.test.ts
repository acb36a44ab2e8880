// A terminating gateway of the built-in data plane end to end on a dev agent: `ext`, a plain TCP
// echo service registered without a sidecar, is linked to the gateway `tgw` by its config entry;
// a client proxy with `ext` as upstream reaches it through the gateway (which `connect envoy
// -gateway terminating -register` registered and runs). A client → ext deny intention closes new
// connections, unlinking stops them, and a TLS service linked with a CAFile and SNI is reached
// over TLS with that CA.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { connectEnvoyCommand, runConnectEnvoy } from '../src/cli/connect-envoy.ts';
import { parseFlags } from '../src/cli/flags.ts';
import { memoryIO } from '../src/cli/io.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { exchange, ProxyRig } from './support/connect-proxy.ts';
import { testCA } from './support/tls-cert.ts';
import { until } from './support/wait.ts';

let dev: DevAgent;
let rig: ProxyRig;
let up = 0;
let secureUp = 0;
let gwPort = 0;
let stopGateway!: () => void;
let gatewayRun: Promise<number>;
const gwIO = () => memoryIO({ env: { CONSUL_HTTP_ADDR: dev.httpAddr } });
let io: ReturnType<typeof gwIO>;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tgw-'));
const servers: net.Server[] = [];

async function put(p: string, body: unknown): Promise<void> {
  const r = await fetch(`http://${dev.httpAddr}${p}`, { method: 'PUT', body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

async function link(services: unknown[]): Promise<void> {
  await put('/v1/config', { Kind: 'terminating-gateway', Name: 'tgw', Services: services });
}

/** Writes `msg` through a fresh connection to `port`; what came back (empty when refused or closed). */
async function through(port: number, msg: string, want: number): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  const got = await exchange(s, msg, want);
  s.destroy();
  return got;
}

before(async () => {
  dev = await startDevAgent();
  rig = new ProxyRig(dev.httpAddr);
  const extEcho = await rig.echo('ext');
  await put('/v1/agent/service/register', { Name: 'ext', ID: 'ext', Address: '127.0.0.1', Port: extEcho });
  // A TLS echo service with a certificate for secure.example from its own CA.
  const ca = await testCA('External CA');
  const leaf = await ca.issue('secure.example', 'server', ['secure.example']);
  const caFile = path.join(tmp, 'ca.pem');
  fs.writeFileSync(caFile, ca.cert);
  const secure = tls.createServer({ cert: leaf.cert, key: leaf.key }, (c) => c.on('data', (d) => c.write(`secure:${d.toString()}`)).on('error', () => c.destroy()));
  servers.push(secure);
  const securePort = await new Promise<number>((r) => secure.listen(0, '127.0.0.1', () => r((secure.address() as net.AddressInfo).port)));
  await put('/v1/agent/service/register', { Name: 'secure', ID: 'secure', Address: '127.0.0.1', Port: securePort });
  await link([{ Name: 'ext' }, { Name: 'secure', CAFile: caFile, SNI: 'secure.example' }]);

  gwPort = await freePort();
  io = gwIO();
  const args = ['-gateway', 'terminating', '-register', '-service', 'tgw', '-address', `127.0.0.1:${gwPort}`, '-admin-bind', `127.0.0.1:${await freePort()}`];
  const started = new Promise<void>((resolve) => {
    gatewayRun = runConnectEnvoy(parseFlags(connectEnvoyCommand.flags, args), io, new Promise<void>((r) => { stopGateway = r; }), undefined, () => resolve());
  });
  await Promise.race([started, gatewayRun.then((code) => { throw new Error(`gateway exited ${code}: ${io.out}${io.err}`); })]);
  [up, secureUp] = [await freePort(), await freePort()];
  await rig.proxy(['-service', 'client', '-upstream', `ext:${up}`, '-upstream', `secure:${secureUp}`]);
  // The gateway's TCP check must pass before health/connect/ext?passing answers it.
  await until('the gateway to be a passing mesh endpoint of ext', 30_000, async () => {
    const list = await (await fetch(`http://${dev.httpAddr}/v1/health/connect/ext?passing`)).json() as { Service: { Kind: string } }[];
    return list.some((e) => e.Service.Kind === 'terminating-gateway');
  });
});

after(async () => {
  stopGateway?.();
  await gatewayRun?.catch(() => 1);
  await rig?.close();
  for (const s of servers) s.close();
  await dev?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('-register registered the gateway as Consul does: Kind, LAN address and port, a TCP check', async () => {
  assert.match(io.out, /Registered service: tgw\n/);
  const svc = await (await fetch(`http://${dev.httpAddr}/v1/agent/service/tgw`)).json() as Record<string, unknown>;
  assert.equal(svc.Kind, 'terminating-gateway');
  assert.equal(svc.Service, 'tgw');
  assert.equal(svc.Address, '127.0.0.1');
  assert.equal(svc.Port, gwPort);
  assert.deepEqual((svc.TaggedAddresses as Record<string, unknown>).lan, { Address: '127.0.0.1', Port: gwPort });
  const checks = await (await fetch(`http://${dev.httpAddr}/v1/agent/checks`)).json() as Record<string, { ServiceID: string; Name: string }>;
  assert.ok(Object.values(checks).some((c) => c.ServiceID === 'tgw' && c.Name === 'terminating-gateway listening'));
});

test('health/connect for a linked service answers the gateway; catalog/gateway-services lists the links', async () => {
  const list = await (await fetch(`http://${dev.httpAddr}/v1/health/connect/ext`)).json() as { Service: { Service: string; Kind: string; Port: number } }[];
  assert.deepEqual(list.map((e) => [e.Service.Service, e.Service.Kind, e.Service.Port]), [['tgw', 'terminating-gateway', gwPort]]);
  const rows = await (await fetch(`http://${dev.httpAddr}/v1/catalog/gateway-services/tgw`)).json() as { Service: { Name: string } }[];
  assert.deepEqual(rows.map((r) => r.Service.Name), ['ext', 'secure']);
});

test('bytes flow from the client\'s upstream through the gateway to the external service', async () => {
  assert.equal(await through(up, 'hello', 'ext:hello'.length), 'ext:hello');
});

test('the gateway presents the linked service\'s leaf, chosen by SNI; an unknown SNI gets no certificate', async () => {
  const leaf = await (await fetch(`http://${dev.httpAddr}/v1/agent/connect/ca/leaf/client`)).json() as { CertPEM: string; PrivateKeyPEM: string; ServiceURI: string };
  const roots = await (await fetch(`http://${dev.httpAddr}/v1/agent/connect/ca/roots`)).json() as { TrustDomain: string };
  const dc = /\/dc\/([^/]+)\//.exec(leaf.ServiceURI)![1];
  const dial = (servername: string) => new Promise<tls.PeerCertificate | Error>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: gwPort, servername, cert: leaf.CertPEM, key: leaf.PrivateKeyPEM, rejectUnauthorized: false });
    s.once('secureConnect', () => { resolve(s.getPeerCertificate()); s.destroy(); });
    s.once('error', (e) => resolve(e));
  });
  const cert = await dial(`ext.default.${dc}.internal.${roots.TrustDomain}`);
  assert.ok(!(cert instanceof Error), String(cert));
  assert.match(cert.subjectaltname ?? '', new RegExp(`URI:spiffe://${roots.TrustDomain}/ns/default/dc/${dc}/svc/ext`));
  const secureCert = await dial(`secure.default.${dc}.internal.${roots.TrustDomain}`);
  assert.ok(!(secureCert instanceof Error));
  assert.match(secureCert.subjectaltname ?? '', /\/svc\/secure/);
  assert.ok(await dial(`nope.default.${dc}.internal.${roots.TrustDomain}`) instanceof Error);
});

test('a TLS external service linked with CAFile and SNI is reached over TLS with that CA', async () => {
  assert.equal(await through(secureUp, 'tls', 'secure:tls'.length), 'secure:tls');
});

test('a client → ext deny intention closes new connections; allowing again lets bytes through', async () => {
  await put('/v1/connect/intentions/exact?source=client&destination=ext', { Action: 'deny' });
  assert.equal(await through(up, 'blocked', 1), '');
  await put('/v1/connect/intentions/exact?source=client&destination=ext', { Action: 'allow' });
  assert.equal(await through(up, 'again', 'ext:again'.length), 'ext:again');
});

test('unlinking ext from the gateway stops its traffic; the other link keeps working', async () => {
  const open = net.connect(up, '127.0.0.1');
  assert.equal(await exchange(open, 'before', 'ext:before'.length), 'ext:before');
  const closed = new Promise<void>((r) => open.once('close', () => r()));
  await link([{ Name: 'secure', CAFile: path.join(tmp, 'ca.pem'), SNI: 'secure.example' }]);
  // The open connection is closed with the link, and new ones find no mesh endpoint for ext.
  await closed;
  await until('ext to be unreachable', 10_000, async () => (await through(up, 'after', 1)) === '');
  const list = await (await fetch(`http://${dev.httpAddr}/v1/health/connect/ext`)).json() as unknown[];
  assert.deepEqual(list, []);
  assert.equal(await through(secureUp, 'still', 'secure:still'.length), 'secure:still');
});

test('connect envoy -proxy-id of a terminating gateway without -gateway points at -gateway terminating', async () => {
  const out = memoryIO({ env: { CONSUL_HTTP_ADDR: dev.httpAddr } });
  assert.equal(await connectEnvoyCommand.run(['-proxy-id', 'tgw', '-admin-bind', `127.0.0.1:${await freePort()}`], out), 1);
  assert.equal(out.err, 'tgw is a terminating-gateway: run it with -gateway terminating -proxy-id tgw\n');
});
