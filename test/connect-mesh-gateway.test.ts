// Mesh gateways of the built-in data plane across two datacenters on real processes: dc1
// (127.0.0.2, primary) and dc2 (127.0.0.3) share dc1's CA over the WAN; each runs a mesh gateway
// that `connect envoy -gateway mesh -register` registers and runs. `api` in dc1 is reached from
// sidecars in dc2 over mTLS verified end to end: with MeshGateway mode local the connection
// passes dc2's gateway (routed to dc1's by the SNI's datacenter) and then dc1's (routed to api's
// sidecar); with mode remote it passes dc1's gateway only; the gateways' counters show which.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { connectEnvoyCommand, runConnectEnvoy } from '../src/cli/connect-envoy.ts';
import type { MeshRunning } from '../src/cli/connect-mesh-gateway.ts';
import { parseFlags } from '../src/cli/flags.ts';
import { memoryIO } from '../src/cli/io.ts';
import { call, DcProcs, get, type Proc } from './support/dc-procs.ts';
import { exchange, ProxyRig } from './support/connect-proxy.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';

const dcs = new DcProcs('mesh-gw');
const procs = dcs.procs;
const POLL = dcs.poll;
const rigs: ProxyRig[] = [];
const stops: (() => void)[] = [];
const runs: Promise<number>[] = [];
const gateways = new Map<string, MeshRunning>();
let upLocal = 0;
let upRemote = 0;
let upHttp = 0;
let upDefaults = 0;
const httpServers: http.Server[] = [];

/** Runs `connect envoy -gateway mesh -register` against `p`'s agent; resolves once the gateway listens. */
function meshGateway(p: Proc, port: number): Promise<MeshRunning> {
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: p.http } });
  const args = ['-gateway', 'mesh', '-register', '-service', `gw-${p.dc}`, '-address', `127.0.0.1:${port}`, '-wan-address', `127.0.0.1:${port}`, '-admin-bind', '127.0.0.1:0'];
  let stop!: () => void;
  stops.push(() => stop());
  return new Promise((resolve, reject) => {
    const run = runConnectEnvoy(parseFlags(connectEnvoyCommand.flags, args), io, new Promise<void>((r) => { stop = r; }), undefined, undefined, resolve);
    runs.push(run);
    run.then((code) => reject(new Error(`gateway exited ${code}: ${io.out}${io.err}`)), reject);
  });
}

async function through(port: number, msg: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  const answer = await exchange(socket, msg, `api:${msg}`.length);
  socket.destroy();
  return answer;
}

after(async () => {
  for (const s of stops) s();
  await Promise.allSettled(runs);
  for (const r of rigs) await r.close();
  for (const h of httpServers) h.close();
});

before(async () => {
  const common = { primary_datacenter: 'dc1', connect: { enabled: true } };
  await dcs.add('s1', 'dc1', '127.0.0.2', common);
  await dcs.add('s2', 'dc2', '127.0.0.3', common);
  const [dc1, dc2] = procs;
  dcs.launchServer(dc1);
  dcs.launchServer(dc2, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  for (const p of procs) await until(`${p.node} to answer`, 30_000, async () => (await get<string>(p, '/v1/status/leader')) ? true : undefined, POLL);
  await until('dc2 to use dc1\'s root', 30_000, async () => {
    const [a, b] = [await get<{ ActiveRootID: string }>(dc1, '/v1/connect/ca/roots'), await get<{ ActiveRootID: string }>(dc2, '/v1/connect/ca/roots')];
    return a?.ActiveRootID && b?.ActiveRootID === a.ActiveRootID ? true : undefined;
  }, POLL);
  for (const p of procs) gateways.set(p.dc, await meshGateway(p, await freePort()));
  const [one, two] = [new ProxyRig(dc1.http), new ProxyRig(dc2.http)];
  rigs.push(one, two);
  const echo = await one.echo('api');
  await one.proxy(['-service', 'api', '-service-addr', `127.0.0.1:${echo}`, '-listen', `127.0.0.1:${await freePort()}`, '-register']);
  // An HTTP service in dc1 for the L7 path (its sidecar is L4; the caller's upstream speaks http).
  const web = http.createServer((req, res) => res.end(`hapi:${req.url}`));
  httpServers.push(web);
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  await one.proxy(['-service', 'hapi', '-service-addr', `127.0.0.1:${(web.address() as net.AddressInfo).port}`, '-listen', `127.0.0.1:${await freePort()}`, '-register']);
  [upLocal, upRemote, upHttp, upDefaults] = [await freePort(), await freePort(), await freePort(), await freePort()];
  // One caller per mode (Consul refuses two upstreams of one proxy to the same service).
  for (const [name, port, mode, dest] of [['web', upLocal, 'local', 'api'], ['web-r', upRemote, 'remote', 'api'], ['web-h', upHttp, 'local', 'hapi']] as const) {
    const reg = await call(dc2, 'PUT', '/v1/agent/service/register', {
      Kind: 'connect-proxy', Name: `${name}-sidecar-proxy`, ID: `${name}-sidecar-proxy`, Address: '127.0.0.1', Port: await freePort(),
      Proxy: {
        DestinationServiceName: name, DestinationServiceID: name, LocalServiceAddress: '127.0.0.1', LocalServicePort: 8080,
        Upstreams: [{
          DestinationName: dest, Datacenter: 'dc1', LocalBindPort: port, MeshGateway: { Mode: mode }, ...(dest === 'hapi' ? { Config: { protocol: 'http' } } : {}),
        }],
      },
    });
    assert.equal(reg.status, 200, reg.text);
    await two.proxy(['-proxy-id', `${name}-sidecar-proxy`]);
  }
});

test('-register registers each gateway as Kind mesh-gateway with its lan and wan tagged addresses', async () => {
  const [dc1] = procs;
  const svc = (await get<{ Kind: string; Service: string; TaggedAddresses: Record<string, { Address: string; Port: number }> }>(dc1, '/v1/agent/service/gw-dc1'))!;
  assert.equal(svc.Kind, 'mesh-gateway');
  const port = Number(gateways.get('dc1')!.gateway.addresses[0].split(':')[1]);
  const at = { Address: '127.0.0.1', Port: port };
  // The agent adds the _ipv4 forms of IP tagged addresses, as Consul's does.
  assert.deepEqual(svc.TaggedAddresses, { lan: at, lan_ipv4: at, wan: at, wan_ipv4: at });
});

test('mode local: bytes from dc2 reach dc1\'s api through dc2\'s gateway and then dc1\'s', async () => {
  const [g1, g2] = [gateways.get('dc1')!.gateway.stats, gateways.get('dc2')!.gateway.stats];
  const before = { ...g1, r2: g2.remote };
  const got = await until('api through both gateways', 60_000, async () => ((await through(upLocal, 'hello')) === 'api:hello' ? true : undefined), POLL);
  assert.equal(got, true);
  assert.ok(g2.remote > before.r2, 'dc2\'s gateway forwarded to dc1\'s');
  assert.ok(g1.local > before.local, 'dc1\'s gateway spliced to api\'s sidecar');
  assert.equal(g2.local, 0, 'dc2\'s gateway routed nothing to its own datacenter');
});

test('mode remote: bytes from dc2 reach dc1\'s api through dc1\'s gateway only', async () => {
  const [g1, g2] = [gateways.get('dc1')!.gateway.stats, gateways.get('dc2')!.gateway.stats];
  await until('api through dc1\'s gateway', 60_000, async () => ((await through(upRemote, 'remote')) === 'api:remote' ? true : undefined), POLL);
  const [l1, a2] = [g1.local, g2.accepted];
  assert.equal(await through(upRemote, 'again'), 'api:again');
  assert.equal(g1.local, l1 + 1, 'one more connection through dc1\'s gateway');
  assert.equal(g2.accepted, a2, 'dc2\'s gateway saw none');
});

test('the L7 path (an http upstream) goes through the gateways too, naming the target by SNI on its pooled connections', async () => {
  const g2 = gateways.get('dc2')!.gateway.stats;
  const r2 = g2.remote;
  const body = await until('hapi through the gateways over the L7 path', 60_000, async () => {
    const res = await fetch(`http://127.0.0.1:${upHttp}/x`).catch(() => null);
    return res?.status === 200 ? res.text() : undefined;
  }, POLL);
  assert.equal(body, 'hapi:/x');
  assert.ok(g2.remote > r2, 'dc2\'s gateway forwarded the pool\'s connection to dc1\'s');
});

test('proxy-defaults\' MeshGateway mode applies to an upstream without its own (the agent merges it into a sidecar\'s registration)', async () => {
  const [, dc2] = procs;
  const pd = await call(dc2, 'PUT', '/v1/config', { Kind: 'proxy-defaults', Name: 'global', MeshGateway: { Mode: 'remote' } });
  assert.equal(pd.status, 200, pd.text);
  const reg = await call(dc2, 'PUT', '/v1/agent/service/register', {
    Kind: 'connect-proxy', Name: 'web-d-sidecar-proxy', ID: 'web-d-sidecar-proxy', Address: '127.0.0.1', Port: await freePort(),
    Proxy: { DestinationServiceName: 'web-d', DestinationServiceID: 'web-d', LocalServiceAddress: '127.0.0.1', LocalServicePort: 8080, Upstreams: [{ DestinationName: 'api', Datacenter: 'dc1', LocalBindPort: upDefaults }] },
  });
  assert.equal(reg.status, 200, reg.text);
  await until('the registration to carry the default mode', 30_000, async () => {
    const svc = await get<{ Proxy: { MeshGateway: { Mode?: string } } }>(dc2, '/v1/agent/service/web-d-sidecar-proxy');
    return svc?.Proxy.MeshGateway.Mode === 'remote' ? true : undefined;
  }, POLL);
  await rigs[1].proxy(['-proxy-id', 'web-d-sidecar-proxy']);
  const [g1, g2] = [gateways.get('dc1')!.gateway.stats, gateways.get('dc2')!.gateway.stats];
  await until('api through dc1\'s gateway', 60_000, async () => ((await through(upDefaults, 'pd')) === 'api:pd' ? true : undefined), POLL);
  const [l1, a2] = [g1.local, g2.accepted];
  assert.equal(await through(upDefaults, 'pd2'), 'api:pd2');
  assert.equal(g1.local, l1 + 1, 'through dc1\'s gateway');
  assert.equal(g2.accepted, a2, 'not through dc2\'s');
});
