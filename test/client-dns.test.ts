// DNS on a client agent answers under the client's own configuration (real processes): a server
// on 127.0.0.1 with Consul's defaults (domain consul, TTLs 0, warning instances answered, no
// recursors) and a client on 127.0.0.4 with domain `pc`, alt_domain, node_ttl, service_ttl,
// only_passing, an SOA min_ttl and a recursor on 127.0.0.6 started here. The same catalog
// answers differently through each, and health changes made on the client show in both.
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from './support/etcd.ts';
import { killAll, spawnAgent } from './support/procs.ts';
import { digAt, upstream, type DigResult } from './support/dns.ts';
import { until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-client-dns-'));
const ports = { http: 0, dns: 0, serf: 0, wan: 0, server: 0 };
const children: ChildProcess[] = [];
let log = '';
const SERVER = '127.0.0.1';
const CLIENT = '127.0.0.4';
const RECURSOR = '127.0.0.6';
let recursor: Awaited<ReturnType<typeof upstream>>;

after(async () => {
  killAll(children);
  await recursor?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function launch(name: string, ip: string, extra: string[]): void {
  children.push(spawnAgent({ node: name, ip, dataDir: path.join(dir, name), configFile: path.join(dir, 'agent.json'), extra },
    (text) => { log = (log + text).slice(-20_000); }));
}

async function call(ip: string, urlPath: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://${ip}:${ports.http}${urlPath}`, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: r.status, text: await r.text() };
}

const POLL = { retryErrors: true, context: () => log.slice(-4000) };
const ask = (ip: string, name: string, type = 'A'): Promise<DigResult> => digAt(ip, ports.dns, name, type);
/** Answer records as [name, ttl, type, data]. */
const records = (r: DigResult): string[][] => r.answer.map((a) => [a[0], a[1], a[3], a.slice(4).join(' ')]);

before(async () => {
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  recursor = await upstream({
    'ext.example.com': [{ type: 'A', name: 'ext.example.com', ttl: 42, data: '192.0.2.7' }],
    'web.service.consul': [{ type: 'A', name: 'web.service.consul', ttl: 42, data: '192.0.2.9' }],
  }, 0, RECURSOR);
  fs.writeFileSync(path.join(dir, 'agent.json'), JSON.stringify({
    ports: { http: ports.http, dns: ports.dns, grpc: -1, grpc_tls: -1, serf_lan: ports.serf, serf_wan: ports.wan, server: ports.server },
    retry_interval: '1s',
  }));
  fs.writeFileSync(path.join(dir, 'client.json'), JSON.stringify({
    domain: 'pc', alt_domain: 'alt.test', recursors: [`${RECURSOR}:${recursor.port}`],
    dns_config: { node_ttl: '7s', service_ttl: { '*': '11s', web: '13s' }, only_passing: true, soa: { min_ttl: 17 } },
  }));
  launch('srv', SERVER, ['-server', '-bootstrap']);
  launch('cli', CLIENT, ['-config-file', path.join(dir, 'client.json'), '-retry-join', `${SERVER}:${ports.serf}`]);
  const reg = await until('the client to register web', 30_000, async () => {
    const r = await call(CLIENT, '/v1/agent/service/register', {
      method: 'PUT', body: JSON.stringify({ Name: 'web', Port: 8080, Check: { CheckID: 'web-ttl', TTL: '10m', Status: 'passing' } }),
    });
    return r.status === 200 ? r : undefined;
  }, POLL);
  assert.equal(reg.status, 200);
  await call(CLIENT, '/v1/agent/service/register', { method: 'PUT', body: JSON.stringify({ Name: 'db', Port: 5432 }) });
  await until('web and db passing in the server catalog', 30_000, async () => {
    const web = JSON.parse((await call(SERVER, '/v1/health/service/web?passing')).text) as unknown[];
    const db = JSON.parse((await call(SERVER, '/v1/health/service/db?passing')).text) as unknown[];
    return web.length === 1 && db.length === 1;
  }, POLL);
});

test('the client answers its own domain with its own TTLs; the server answers with its own', async () => {
  const web = await until('web in the client DNS', 10_000, async () => {
    const r = await ask(CLIENT, 'web.service.pc');
    return r.answer.length ? r : undefined;
  }, POLL);
  assert.equal(web.status, 'NOERROR');
  assert.deepEqual(records(web), [['web.service.pc.', '13', 'A', CLIENT]]);
  assert.ok(web.flags.includes('aa') && web.flags.includes('ra'), web.raw);
  assert.deepEqual(records(await ask(CLIENT, 'db.service.pc')), [['db.service.pc.', '11', 'A', CLIENT]]);
  assert.deepEqual(records(await ask(CLIENT, 'cli.node.pc')), [['cli.node.pc.', '7', 'A', CLIENT]]);
  const srv = await ask(CLIENT, 'web.service.pc', 'SRV');
  assert.deepEqual(records(srv), [['web.service.pc.', '13', 'SRV', '1 1 8080 cli.node.dc1.pc.']]);
  assert.deepEqual(srv.additional.filter((a) => a[3] === 'A').map((a) => [a[0], a[1], a[4]]), [['cli.node.dc1.pc.', '13', CLIENT]]);
  assert.deepEqual(records(await ask(CLIENT, 'web.service.alt.test')), [['web.service.alt.test.', '13', 'A', CLIENT]]);
  const soa = await ask(CLIENT, 'pc', 'SOA');
  assert.match(soa.answer[0]?.join(' ') ?? '', /^pc\.\s.*SOA ns\.pc\. hostmaster\.pc\. \d+ 3600 600 86400 17$/, soa.raw);
  const missing = await ask(CLIENT, 'nope.service.pc');
  assert.equal(missing.status, 'NXDOMAIN');
  assert.match(missing.authority[0]?.join(' ') ?? '', / 17$/, missing.raw);

  const server = await ask(SERVER, 'web.service.consul');
  assert.deepEqual(records(server), [['web.service.consul.', '0', 'A', CLIENT]]);
  assert.ok(!server.flags.includes('ra'), server.raw);
  assert.deepEqual(records(await ask(SERVER, 'cli.node.consul')), [['cli.node.consul.', '0', 'A', CLIENT]]);
  // The server does not know the client's domain, and keeps its own SOA.
  assert.equal((await ask(SERVER, 'web.service.pc')).status, 'REFUSED');
  assert.match((await ask(SERVER, 'nope.service.consul')).authority[0]?.join(' ') ?? '', / 0$/);
});

test('names outside the client domain go to the client recursors, not to the servers', async () => {
  const before = recursor.queries;
  assert.deepEqual(records(await ask(CLIENT, 'ext.example.com')), [['ext.example.com.', '42', 'A', '192.0.2.7']]);
  // consul is not the client's domain: its recursor answers that name too.
  assert.deepEqual(records(await ask(CLIENT, 'web.service.consul')), [['web.service.consul.', '42', 'A', '192.0.2.9']]);
  const missing = await ask(CLIENT, 'nope.example.com');
  assert.equal(missing.status, 'NXDOMAIN');
  assert.equal(recursor.queries - before, 3);
  // A reverse name the catalog does not know is the client's recursors' too; one it knows is answered.
  assert.equal((await ask(CLIENT, '9.2.0.192.in-addr.arpa', 'PTR')).status, 'NXDOMAIN');
  assert.equal(recursor.queries - before, 4);
  assert.deepEqual(records(await ask(CLIENT, '4.0.0.127.in-addr.arpa', 'PTR')), [['4.0.0.127.in-addr.arpa.', '0', 'PTR', 'cli.node.dc1.pc.']]);
  assert.equal(recursor.queries - before, 4);
  // The server has no recursors.
  assert.equal((await ask(SERVER, 'ext.example.com')).status, 'REFUSED');
  assert.equal(recursor.queries - before, 4);
});

test('health changes: a warning instance leaves only the client answers (only_passing), critical leaves both', async () => {
  const check = (state: string) => call(CLIENT, `/v1/agent/check/${state}/web-ttl`, { method: 'PUT' });
  const status = async () => (JSON.parse((await call(SERVER, '/v1/health/checks/web')).text) as { Status: string }[])[0]?.Status;
  assert.equal((await check('warn')).status, 200);
  await until('web warning on the server', 10_000, async () => (await status()) === 'warning', POLL);
  const warned = await ask(CLIENT, 'web.service.pc');
  assert.equal(warned.status, 'NXDOMAIN', warned.raw);
  assert.deepEqual(warned.answer, []);
  assert.deepEqual(records(await ask(SERVER, 'web.service.consul')), [['web.service.consul.', '0', 'A', CLIENT]]);

  assert.equal((await check('fail')).status, 200);
  await until('web critical on the server', 10_000, async () => (await status()) === 'critical', POLL);
  assert.equal((await ask(CLIENT, 'web.service.pc')).status, 'NXDOMAIN');
  assert.equal((await ask(SERVER, 'web.service.consul')).status, 'NXDOMAIN');

  assert.equal((await check('pass')).status, 200);
  await until('web passing on the server', 10_000, async () => (await status()) === 'passing', POLL);
  assert.deepEqual(records(await ask(CLIENT, 'web.service.pc')), [['web.service.pc.', '13', 'A', CLIENT]]);
  assert.deepEqual(records(await ask(SERVER, 'web.service.consul')), [['web.service.consul.', '0', 'A', CLIENT]]);
});

test('a reload takes the client new DNS settings', async () => {
  fs.writeFileSync(path.join(dir, 'client.json'), JSON.stringify({
    domain: 'pc', recursors: [`${RECURSOR}:${recursor.port}`], dns_config: { node_ttl: '8s', only_passing: true },
  }));
  const reload = await call(CLIENT, '/v1/agent/reload', { method: 'PUT' });
  assert.equal(reload.status, 200, reload.text);
  assert.deepEqual(records(await ask(CLIENT, 'cli.node.pc')), [['cli.node.pc.', '8', 'A', CLIENT]]);
  // service_ttl is gone: the service answer takes node_ttl, as Consul's falls back to it.
  assert.deepEqual(records(await ask(CLIENT, 'web.service.pc')), [['web.service.pc.', '8', 'A', CLIENT]]);
  assert.equal((await ask(CLIENT, 'web.service.alt.test')).status, 'NXDOMAIN', 'alt_domain is gone: the recursor does not know it');
});
