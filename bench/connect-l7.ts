// What the built-in proxy's L7 path costs per HTTP request next to its L4 path and a direct
// call: one in-process dev agent, an HTTP app behind its sidecar, and web's proxy with two
// upstreams to it: `api` (protocol http, resolver subsets and a 90/10 splitter: L7) and `raw`
// (protocol tcp: L4 splice). One caller, keep-alive, sequential requests; CPU is the whole
// process's (`process.cpuUsage()`: client, proxies, app and agent) per request, cases alternated.
// Usage: node bench/connect-l7.ts [requests per round, default 2000] [rounds, default 5]
import http from 'node:http';
import { startDevAgent } from '../test/support/agent.ts';
import { ProxyRig } from '../test/support/connect-proxy.ts';
import { freePort } from '../test/support/ports.ts';

const perRound = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 5);

const dev = await startDevAgent();
const rig = new ProxyRig(dev.httpAddr);
const put = async (path: string, body: unknown) => {
  const r = await fetch(`http://${dev.httpAddr}${path}`, { method: 'PUT', body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
};

const app = http.createServer((_req, res) => res.end('{"version":"v1"}'));
await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
const appPort = (app.address() as { port: number }).port;

for (const name of ['api', 'raw']) {
  const pub = await freePort();
  await put('/v1/agent/service/register', { Name: name, ID: name, Port: appPort, Meta: { version: 'v1' } });
  await put('/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: `${name}-sidecar-proxy`, Name: `${name}-sidecar-proxy`, Address: '127.0.0.1', Port: pub, Meta: { version: 'v1' },
    Proxy: { DestinationServiceName: name, DestinationServiceID: name, LocalServiceAddress: '127.0.0.1', LocalServicePort: appPort },
  });
  await rig.proxy(['-sidecar-for', name]);
}
await put('/v1/config', { Kind: 'service-defaults', Name: 'api', Protocol: 'http' });
await put('/v1/config', { Kind: 'service-resolver', Name: 'api', Subsets: { v1: { Filter: 'Service.Meta.version == v1' }, v2: { Filter: 'Service.Meta.version == v1' } } });
await put('/v1/config', { Kind: 'service-splitter', Name: 'api', Splits: [{ Weight: 90, ServiceSubset: 'v1' }, { Weight: 10, ServiceSubset: 'v2' }] });
const [l7Port, l4Port] = [await freePort(), await freePort()];
await rig.proxy(['-service', 'web', '-upstream', `api:${l7Port}`, '-upstream', `raw:${l4Port}`]);

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function get(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/bench', agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    }).on('error', reject);
  });
}

async function round(port: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < perRound; i++) await get(port);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / perRound;
}

const cases: Record<string, number> = { direct: appPort, l4: l4Port, l7: l7Port };
for (const port of Object.values(cases)) for (let i = 0; i < 200; i++) await get(port);
const results: Record<string, number[]> = { direct: [], l4: [], l7: [] };
for (let r = 0; r < rounds; r++) for (const [name, port] of Object.entries(cases)) results[name].push(await round(port));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
console.log(`requests per round ${perRound}, rounds ${rounds}; µs CPU per request (whole process), median`);
for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(6)} ${v.toFixed(1)}  (rounds: ${results[k].map((x) => x.toFixed(1)).join(' ')})`);
console.log(`  l7/l4 ${(m.l7 / m.l4).toFixed(2)}  l7/direct ${(m.l7 / m.direct).toFixed(2)}  l4/direct ${(m.l4 / m.direct).toFixed(2)}`);

agent.destroy();
await rig.close();
app.close();
await dev.stop();
