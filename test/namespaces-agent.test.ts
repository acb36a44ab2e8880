// The agent's own services and checks in namespaces (Consul Enterprise's ServiceID/CheckID with
// EnterpriseMeta): one service ID in two namespaces on one agent, each synced to its namespace of
// the catalog by anti-entropy, TTL updates, deregistration and drift repair per namespace, and
// the agent endpoints' ?ns= and Namespace/Partition fields.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpCaller, type HttpCall } from './support/acl.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';
import { createAgent, createClientAgent, type Agent, type ClientAgent } from '../src/index.ts';
import { loadConfig } from '../src/agent/config/index.ts';
import { silentLogger } from '../src/log.ts';
import { seedTenants } from './support/tenancy.ts';

describe('agent services and checks in namespaces', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    dev = await startDevAgent();
    call = httpCaller(() => dev.httpAddr);
    await seedTenants(dev.agent.store, ['team-a']);
  });
  after(() => dev.stop());

  const instance = async (ns: string) => (await call('GET', `/v1/health/service/web${ns}`)).json as any[];

  test('one service ID in two namespaces: two local services, each in its own namespace of the catalog', async () => {
    const def = (port: number) => ({ ID: 'web', Name: 'web', Port: port, Check: { CheckID: 'web-ttl', TTL: '60s' } });
    assert.equal((await call('PUT', '/v1/agent/service/register', '', def(80))).status, 200);
    assert.equal((await call('PUT', '/v1/agent/service/register?ns=team-a', '', def(81))).status, 200);

    const plain = (await call('GET', '/v1/agent/services')).json;
    assert.deepEqual(Object.keys(plain), ['web']);
    assert.equal(plain.web.Port, 80);
    assert.ok(!('Namespace' in plain.web), 'a CE request sees no tenancy fields');
    const inA = (await call('GET', '/v1/agent/services?ns=team-a')).json;
    assert.deepEqual([inA.web.Port, inA.web.Namespace, inA.web.Partition], [81, 'team-a', 'default']);
    assert.equal((await call('GET', '/v1/agent/service/web?ns=team-a')).json.Port, 81);
    // Consul's hash ignores Namespace (hash:"ignore"): naming the default namespace leaves it as it was.
    assert.equal((await call('GET', '/v1/agent/service/web?ns=default')).json.ContentHash, (await call('GET', '/v1/agent/service/web')).json.ContentHash);
    assert.equal((await call('GET', '/v1/agent/service/web')).json.Port, 80);

    // Synced before the register call answered.
    assert.deepEqual((await instance('')).map((i) => i.Service.Port), [80]);
    assert.deepEqual((await instance('?ns=team-a')).map((i) => [i.Service.Port, i.Service.Namespace]), [[81, 'team-a']]);
    const checksA = (await call('GET', '/v1/agent/checks?ns=team-a')).json;
    assert.deepEqual(Object.keys(checksA), ['web-ttl']);
    assert.equal(checksA['web-ttl'].Namespace, 'team-a');

    // A TTL pass in one namespace leaves the other's check critical.
    assert.equal((await call('PUT', '/v1/agent/check/pass/web-ttl?ns=team-a')).status, 200);
    const statusOf = async (ns: string) => (await instance(ns))[0].Checks.find((c: any) => c.CheckID === 'web-ttl').Status;
    assert.equal(await statusOf('?ns=team-a'), 'passing');
    assert.equal(await statusOf(''), 'critical');
    assert.equal((await call('GET', '/v1/agent/health/service/id/web?ns=team-a&format=text')).text, 'passing');
    assert.equal((await call('GET', '/v1/agent/health/service/id/web?format=text')).text, 'critical');
  });

  test('anti-entropy repairs a namespace\'s drift and removes what the agent does not own there', async () => {
    // Another writer removes the agent's team-a instance and adds one the agent does not own.
    assert.equal((await call('PUT', '/v1/catalog/deregister?ns=team-a', '', { Node: 'test-node', ServiceID: 'web' })).text, 'true');
    assert.equal((await call('PUT', '/v1/catalog/register?ns=team-a', '', {
      Node: 'test-node', Address: '127.0.0.1', SkipNodeUpdate: true, Service: { ID: 'stray', Service: 'stray' },
    })).text, 'true');
    assert.equal((await instance('?ns=team-a')).length, 0);
    await dev.agent.local.ae.syncFull();
    assert.deepEqual((await instance('?ns=team-a')).map((i) => i.Service.Port), [81]);
    assert.equal((await call('GET', '/v1/catalog/service/stray?ns=team-a')).json.length, 0);
    assert.deepEqual((await instance('')).map((i) => i.Service.Port), [80], 'the default namespace is untouched');
  });

  test('a check registered in a namespace joins that namespace\'s service; maintenance is per namespace', async () => {
    const reg = await call('PUT', '/v1/agent/check/register?ns=team-a', '', { ID: 'extra', Name: 'extra', ServiceID: 'web', TTL: '60s', Status: 'warning' });
    assert.equal(reg.status, 200, reg.text);
    assert.equal((await call('GET', '/v1/agent/checks')).json.extra, undefined);
    assert.equal((await call('GET', '/v1/agent/checks?ns=team-a')).json.extra.ServiceID, 'web');
    // The instance's own checks (the node's serfHealth applies to every namespace's instances too).
    const checksOf = async (ns: string) => (await instance(ns))[0].Checks.map((c: any) => c.CheckID).filter((id: string) => id !== 'serfHealth').sort();
    assert.deepEqual(await checksOf('?ns=team-a'), ['extra', 'web-ttl']);
    assert.deepEqual(await checksOf(''), ['web-ttl']);
    assert.equal((await call('PUT', '/v1/agent/service/maintenance/web?enable=true&ns=team-a')).status, 200);
    assert.ok((await checksOf('?ns=team-a')).includes('_service_maintenance:web'));
    assert.ok(!(await checksOf('')).includes('_service_maintenance:web'));
    assert.equal((await call('PUT', '/v1/agent/service/maintenance/web?enable=false&ns=team-a')).status, 200);
    assert.ok(!(await checksOf('?ns=team-a')).includes('_service_maintenance:web'));
    assert.equal((await call('PUT', '/v1/agent/check/deregister/extra?ns=team-a')).status, 200);
    assert.deepEqual(await checksOf('?ns=team-a'), ['web-ttl']);
  });

  test('deregistering in one namespace leaves the other', async () => {
    assert.equal((await call('PUT', '/v1/agent/service/deregister/web?ns=team-a')).status, 200);
    assert.equal((await instance('?ns=team-a')).length, 0);
    // Gone from team-a, so unknown there (Consul Enterprise prints partition/namespace/ID).
    const again = await call('PUT', '/v1/agent/service/deregister/web?ns=team-a');
    assert.deepEqual([again.status, again.text], [404, 'Unknown service ID "default/team-a/web". Ensure that the service ID is passed, not the service name.']);
    assert.equal((await call('GET', '/v1/agent/checks?ns=team-a')).json['web-ttl'], undefined);
    assert.deepEqual((await instance('')).map((i) => i.Service.Port), [80]);
    assert.deepEqual(Object.keys((await call('GET', '/v1/agent/services')).json), ['web']);
    const stored = (await dev.agent.store.range('t/')).kvs.map((kv) => kv.key).filter((k) => k.includes('/catalog/'));
    assert.deepEqual(stored, []);
  });

  test('a registration into a missing namespace is kept locally and its sync fails, as Consul\'s client agents do', async () => {
    assert.equal((await call('PUT', '/v1/agent/service/register?ns=nope', '', { ID: 'lost', Name: 'lost' })).status, 200);
    assert.equal((await call('GET', '/v1/agent/services?ns=nope')).json.lost.Namespace, 'nope');
    await assert.rejects(dev.agent.local.ae.syncFull(), /Namespace "nope" does not exist/);
    // Its deregistration needs no namespace: the agent forgets it and syncs cleanly again.
    assert.equal((await call('PUT', '/v1/agent/service/deregister/lost?ns=nope')).status, 200);
    await dev.agent.local.ae.syncFull();
    assert.deepEqual((await call('GET', '/v1/agent/services?ns=nope')).json, {});
  });

  test('a body Namespace that no request could name is refused, not kept locally failing every sync', async () => {
    const wild = await call('PUT', '/v1/agent/service/register', '', { ID: 'odd', Name: 'odd', Namespace: '*' });
    assert.equal(wild.status, 400);
    assert.match(wild.text, /wildcard "\*" is not allowed/);
    const bad = await call('PUT', '/v1/agent/service/register', '', { ID: 'odd', Name: 'odd', Namespace: 'a/b' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /must be a valid DNS hostname label/);
    assert.equal((await call('PUT', '/v1/agent/check/register', '', { ID: 'odd-c', Name: 'odd-c', TTL: '10s', Namespace: 'a b' })).status, 400);
    assert.ok(!dev.agent.local.state.services('*').some((s) => s.ID === 'odd'));
    await dev.agent.local.ae.syncFull();
  });
});

describe('a client agent\'s services in a namespace', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-ns-agent-'));
  let server: Agent;
  let client: ClientAgent;
  let serverCall: HttpCall;
  let clientCall: HttpCall;
  const config = async (name: string, hcl: string) => {
    fs.writeFileSync(path.join(dir, `${name}.hcl`), hcl);
    return (await loadConfig({ args: ['-config-file', path.join(dir, `${name}.hcl`)], env: {} })).config;
  };
  const common = (http: number, serf: number, rpc: number) => `data_dir = "${dir}/${http}"
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
ports { http = ${http} https = -1 dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${serf} serf_wan = -1 server = ${rpc} }
`;
  before(async () => {
    const [sh, ss, sr, ch, cs] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    server = createAgent(await config('s', `node_name = "s1"\nserver = true\nbootstrap_expect = 1\n${common(sh, ss, sr)}`), { logger: silentLogger() });
    await server.start();
    client = createClientAgent(await config('c', `node_name = "c1"\nretry_join = ["127.0.0.1:${ss}"]\n${common(ch, cs, sr)}`), { logger: silentLogger() });
    await client.start();
    serverCall = httpCaller(() => `127.0.0.1:${sh}`);
    clientCall = httpCaller(() => `127.0.0.1:${ch}`);
    await until('the client knows the server', 20_000, async () => client.servers.servers().length > 0);
    await until('a leader', 20_000, async () => (await serverCall('GET', '/v1/status/leader')).json !== '');
    assert.equal((await serverCall('PUT', '/v1/namespace', '', { Name: 'team-a' })).status, 200);
  });
  after(async () => {
    await client?.stop();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('registers over RPC in the namespace, and its full sync reads and repairs that namespace', async () => {
    await until('the client node is in the catalog', 20_000, async () => (await serverCall('GET', '/v1/catalog/node/c1')).json?.Node != null);
    const reg = await clientCall('PUT', '/v1/agent/service/register', '', { ID: 'api', Name: 'api', Port: 7, Namespace: 'team-a' });
    assert.equal(reg.status, 200, reg.text);
    const inA = async () => (await serverCall('GET', '/v1/catalog/service/api?ns=team-a')).json.map((s: any) => [s.Node, s.ServicePort]);
    await until('synced into team-a', 10_000, async () => (await inA()).length === 1);
    assert.deepEqual(await inA(), [['c1', 7]]);
    assert.equal((await serverCall('GET', '/v1/catalog/service/api')).json.length, 0, 'not in the default namespace');

    assert.equal((await serverCall('PUT', '/v1/catalog/register?ns=team-a', '', {
      Node: 'c1', Address: '127.0.0.1', SkipNodeUpdate: true, Service: { ID: 'stray', Service: 'stray' },
    })).text, 'true');
    assert.equal((await serverCall('PUT', '/v1/catalog/deregister?ns=team-a', '', { Node: 'c1', ServiceID: 'api' })).text, 'true');
    await client.local.ae.syncFull();
    assert.deepEqual(await inA(), [['c1', 7]]);
    assert.equal((await serverCall('GET', '/v1/catalog/service/stray?ns=team-a')).json.length, 0);

    assert.equal((await clientCall('PUT', '/v1/agent/service/deregister/api?ns=team-a')).status, 200);
    assert.deepEqual(await inA(), []);
  });
});

describe('a client agent in an admin partition', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-ap-agent-'));
  let server: Agent;
  let client: ClientAgent;
  let serverCall: HttpCall;
  let clientCall: HttpCall;
  const config = async (name: string, hcl: string) => {
    fs.writeFileSync(path.join(dir, `${name}.hcl`), hcl);
    return (await loadConfig({ args: ['-config-file', path.join(dir, `${name}.hcl`)], env: {} })).config;
  };
  const common = (http: number, serf: number, rpc: number) => `data_dir = "${dir}/${http}"
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
ports { http = ${http} https = -1 dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${serf} serf_wan = -1 server = ${rpc} }
`;
  before(async () => {
    const [sh, ss, sr, ch, cs] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    server = createAgent(await config('s', `node_name = "s1"\nserver = true\nbootstrap_expect = 1\n${common(sh, ss, sr)}`), { logger: silentLogger() });
    await server.start();
    serverCall = httpCaller(() => `127.0.0.1:${sh}`);
    await until('a leader', 20_000, async () => (await serverCall('GET', '/v1/status/leader')).json !== '');
    assert.equal((await serverCall('PUT', '/v1/partition', '', { Name: 'p1' })).status, 200);
    client = createClientAgent(await config('c', `node_name = "c1"\npartition = "p1"\nretry_join = ["127.0.0.1:${ss}"]\n${common(ch, cs, sr)}`), { logger: silentLogger() });
    await client.start();
    clientCall = httpCaller(() => `127.0.0.1:${ch}`);
    await until('the client knows the server', 20_000, async () => client.servers.servers().length > 0);
  });
  after(async () => {
    await client?.stop();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the leader registers it in its partition, and anti-entropy syncs its services there', async () => {
    const nodeIn = async (q: string) => (await serverCall('GET', `/v1/catalog/nodes${q}`)).json.map((n: any) => n.Node);
    await until('c1 in p1', 20_000, async () => (await nodeIn('?partition=p1')).includes('c1'));
    assert.ok(!(await nodeIn('')).includes('c1'), 'not in the default partition');
    const serf = (await serverCall('GET', '/v1/health/node/c1?partition=p1')).json.find((c: any) => c.CheckID === 'serfHealth');
    assert.equal(serf?.Status, 'passing');
    assert.equal((await clientCall('GET', '/v1/agent/self')).json.Config.Partition, 'p1');

    assert.equal((await clientCall('PUT', '/v1/agent/service/register', '', { ID: 'api', Name: 'api', Port: 7 })).status, 200);
    const inP1 = async () => (await serverCall('GET', '/v1/catalog/service/api?partition=p1')).json.map((s: any) => [s.Node, s.ServicePort, s.Partition]);
    await until('synced into p1', 10_000, async () => (await inP1()).length === 1);
    assert.deepEqual(await inP1(), [['c1', 7, 'p1']]);
    assert.equal((await serverCall('GET', '/v1/catalog/service/api')).json.length, 0);
    await client.local.ae.syncFull();
    assert.deepEqual(await inP1(), [['c1', 7, 'p1']]);
  });
});
