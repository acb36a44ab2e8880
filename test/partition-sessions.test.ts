// Sessions (and so locks) in an admin partition other than default, as Consul Enterprise keeps them:
// a session's node and checks are looked up in its partition, a check of that partition going
// critical (or its node deregistered) invalidates it and releases its locks, and session reads of
// another partition do not see it. A real server and a client agent with `partition = "p1"`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpCaller, type HttpCall } from './support/acl.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';
import { createAgent, createClientAgent, type Agent, type ClientAgent } from '../src/index.ts';
import { loadConfig } from '../src/agent/config/index.ts';
import { silentLogger } from '../src/log.ts';

const BIN = fileURLToPath(new URL('../bin/proconsul.js', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-ap-sessions-'));
let server: Agent;
let client: ClientAgent;
let clientAddr = '';
let serverCall: HttpCall;
let clientCall: HttpCall;

before(async () => {
  const config = async (file: string, text: string) => {
    fs.writeFileSync(path.join(dir, `${file}.hcl`), text);
    return (await loadConfig({ args: ['-config-file', path.join(dir, `${file}.hcl`)], env: {} })).config;
  };
  const common = (http: number, serf: number, rpc: number) => `data_dir = "${dir}/${http}"
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
ports { http = ${http} https = -1 dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${serf} serf_wan = -1 server = ${rpc} }
`;
  const [sh, ss, sr, ch, cs] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  server = createAgent(await config('s', `node_name = "s1"\nserver = true\nbootstrap_expect = 1\n${common(sh, ss, sr)}`), { logger: silentLogger() });
  await server.start();
  serverCall = httpCaller(() => `127.0.0.1:${sh}`);
  await until('a leader', 20_000, async () => (await serverCall('GET', '/v1/status/leader')).json !== '' && (await serverCall('GET', '/v1/partitions')).status === 200);
  assert.equal((await serverCall('PUT', '/v1/partition', '', { Name: 'p1' })).status, 200);
  client = createClientAgent(await config('c', `node_name = "c1"\npartition = "p1"\nretry_join = ["127.0.0.1:${ss}"]\n${common(ch, cs, sr)}`), { logger: silentLogger() });
  await client.start();
  clientAddr = `127.0.0.1:${ch}`;
  clientCall = httpCaller(() => clientAddr);
  // The leader registers c1 in p1 with its serfHealth check.
  await until('c1 registered in p1', 20_000, async () => {
    const checks = (await serverCall('GET', '/v1/health/node/c1?partition=p1')).json;
    return Array.isArray(checks) && checks.some((c: any) => c.CheckID === 'serfHealth' && c.Status === 'passing');
  });
});
after(async () => {
  await client?.stop();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ids = (list: any): string[] => (Array.isArray(list) ? list.map((s: any) => s.ID) : []);

describe('sessions in partition p1', () => {
  test('a session made through the p1 client is on its node in p1, invisible to the default partition', async () => {
    const made = await clientCall('PUT', '/v1/session/create', '', { Name: 'p1-session' });
    assert.equal(made.status, 200, made.text);
    const id = made.json.ID;
    const info = (await serverCall('GET', `/v1/session/info/${id}?partition=p1`)).json;
    assert.deepEqual([info[0].Node, info[0].Partition, info[0].NodeChecks], ['c1', 'p1', ['serfHealth']]);
    assert.ok(ids((await serverCall('GET', '/v1/session/list?partition=p1')).json).includes(id));
    assert.ok(ids((await clientCall('GET', '/v1/session/list')).json).includes(id), 'the client lists its partition');
    assert.ok(!ids((await serverCall('GET', '/v1/session/list')).json).includes(id), 'not listed in the default partition');
    assert.deepEqual(ids((await serverCall('GET', '/v1/session/node/c1?partition=p1')).json), [id]);
    assert.deepEqual((await serverCall('GET', '/v1/session/node/c1')).json, []);
    assert.deepEqual((await serverCall('GET', `/v1/session/info/${id}`)).json, []);
    // c1 is p1's node only: a session for it in the default partition has no node.
    const inDefault = await serverCall('PUT', '/v1/session/create', '', { Node: 'c1' });
    assert.deepEqual([inDefault.status, inDefault.text], [500, 'Missing node registration']);
    // Renewed through the client (in p1); the default partition has no such session.
    assert.equal((await clientCall('PUT', `/v1/session/renew/${id}`)).json[0].ID, id);
    assert.equal((await serverCall('PUT', `/v1/session/renew/${id}`)).status, 404);
    assert.equal((await clientCall('PUT', `/v1/session/destroy/${id}`)).text, 'true');
    assert.deepEqual((await serverCall('GET', '/v1/session/list?partition=p1')).json, []);
  });

  test('`lock` through the p1 client holds a p1 KV lock with a p1 session', async () => {
    const started = path.join(dir, 'lock-started');
    const release = path.join(dir, 'lock-release');
    const child = `touch ${started}; while [ ! -f ${release} ]; do sleep 0.1; done; echo child-done`;
    const proc = spawn(process.execPath, [BIN, 'lock', `-http-addr=${clientAddr}`, 'svc/leader', child], {
      env: { ...process.env, SHELL: '/bin/sh' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (c: Buffer) => { out += c; });
    proc.stderr!.on('data', (c: Buffer) => { err += c; });
    const done = new Promise<number | null>((resolve) => proc.on('close', resolve));
    try {
      await until('the lock held', 20_000, async () => fs.existsSync(started), { context: () => `${out}\n${err}` });
      const held = (await serverCall('GET', '/v1/kv/svc/leader/.lock?partition=p1')).json;
      assert.ok(held[0].Session, JSON.stringify(held));
      assert.equal(held[0].Partition, 'p1');
      const session = (await serverCall('GET', `/v1/session/info/${held[0].Session}?partition=p1`)).json;
      assert.deepEqual([session[0].Node, session[0].Partition], ['c1', 'p1']);
      assert.equal((await serverCall('GET', '/v1/kv/svc/leader/.lock')).status, 404, 'no lock in the default partition');
    } finally {
      fs.writeFileSync(release, '');
    }
    assert.equal(await done, 0, `${out}\n${err}`);
    assert.match(out, /child-done/);
  });

  test('a p1 node check going critical invalidates the p1 session tied to it and releases its lock', async () => {
    const reg = await clientCall('PUT', '/v1/agent/check/register', '', { ID: 'guard', Name: 'guard', TTL: '10m', Status: 'passing' });
    assert.equal(reg.status, 200, reg.text);
    await until('the check synced to p1', 20_000, async () => (await serverCall('GET', '/v1/health/node/c1?partition=p1')).json.some((c: any) => c.CheckID === 'guard' && c.Status === 'passing'));
    const made = await clientCall('PUT', '/v1/session/create', '', { NodeChecks: ['serfHealth', 'guard'] });
    assert.equal(made.status, 200, made.text);
    const id = made.json.ID;
    assert.equal((await clientCall('PUT', `/v1/kv/job?acquire=${id}`, '', 'x')).text, 'true');
    assert.equal((await serverCall('GET', '/v1/kv/job?partition=p1')).json[0].Session, id);
    assert.equal((await clientCall('PUT', '/v1/agent/check/fail/guard')).status, 200);
    await until('the session invalidated', 20_000, async () => (await serverCall('GET', `/v1/session/info/${id}?partition=p1`)).json.length === 0);
    const job = (await serverCall('GET', '/v1/kv/job?partition=p1')).json;
    assert.equal(job[0].Session, undefined, 'the lock is released');
    assert.equal(Buffer.from(job[0].Value, 'base64').toString(), 'x');
    // The released key is under its lock-delay (15 s) in p1: another session cannot take it yet.
    const next = (await clientCall('PUT', '/v1/session/create', '', {})).json.ID;
    assert.equal((await clientCall('PUT', `/v1/kv/job?acquire=${next}`, '', 'y')).text, 'false');
    assert.equal((await clientCall('PUT', `/v1/session/destroy/${next}`)).text, 'true');
    // A session cannot be made on a critical check of p1.
    const refused = await clientCall('PUT', '/v1/session/create', '', { NodeChecks: ['guard'] });
    assert.deepEqual([refused.status, refused.text], [500, "Check 'guard' is in critical state"]);
    assert.equal((await clientCall('PUT', '/v1/agent/check/deregister/guard')).status, 200);
  });

  test("a p1 node deregistered takes its p1 sessions; the default partition's namesake node does not", async () => {
    const node = (Partition: string | undefined) => ({ Node: 'n2', Address: '127.0.0.2', ...(Partition ? { Partition } : {}), Check: { CheckID: 'c', Name: 'c', Status: 'passing' } });
    assert.equal((await serverCall('PUT', '/v1/catalog/register', '', node('p1'))).text, 'true');
    assert.equal((await serverCall('PUT', '/v1/catalog/register', '', node(undefined))).text, 'true');
    const inP1 = (await serverCall('PUT', '/v1/session/create?partition=p1', '', { Node: 'n2', NodeChecks: ['c'] })).json.ID;
    const inDefault = (await serverCall('PUT', '/v1/session/create', '', { Node: 'n2', NodeChecks: ['c'] })).json.ID;
    assert.ok(inP1 && inDefault);
    // The default partition's n2 check going critical leaves p1's session alone.
    assert.equal((await serverCall('PUT', '/v1/catalog/register', '', { ...node(undefined), Check: { CheckID: 'c', Name: 'c', Status: 'critical' } })).text, 'true');
    assert.deepEqual(ids((await serverCall('GET', '/v1/session/list')).json).includes(inDefault), false);
    assert.deepEqual(ids((await serverCall('GET', '/v1/session/node/n2?partition=p1')).json), [inP1]);
    // Deregistering p1's n2 invalidates p1's session on it.
    assert.equal((await serverCall('PUT', '/v1/catalog/deregister', '', { Node: 'n2', Partition: 'p1' })).text, 'true');
    assert.deepEqual((await serverCall('GET', '/v1/session/node/n2?partition=p1')).json, []);
    // And p1's critical check invalidates too (registered again).
    assert.equal((await serverCall('PUT', '/v1/catalog/register', '', node('p1'))).text, 'true');
    const again = (await serverCall('PUT', '/v1/session/create?partition=p1', '', { Node: 'n2', NodeChecks: ['c'] })).json.ID;
    assert.equal((await serverCall('PUT', '/v1/catalog/register', '', { ...node('p1'), Check: { CheckID: 'c', Name: 'c', Status: 'critical' } })).text, 'true');
    assert.ok(!ids((await serverCall('GET', '/v1/session/list?partition=p1')).json).includes(again));
  });

  test("a service check in a namespace of p1 is looked up there and invalidates p1's session tied to it", async () => {
    assert.equal((await serverCall('PUT', '/v1/namespace', '', { Name: 'team', Partition: 'p1' })).status, 200);
    const reg = (Status: string) => ({
      Node: 'n3', Address: '127.0.0.3', Partition: 'p1',
      Service: { ID: 'web', Service: 'web', Namespace: 'team' }, Check: { CheckID: 'web-ok', Name: 'web-ok', ServiceID: 'web', Status, Namespace: 'team' },
    });
    assert.equal((await serverCall('PUT', '/v1/catalog/register', '', reg('passing'))).text, 'true');
    const body = { Node: 'n3', NodeChecks: [], ServiceChecks: [{ ID: 'web-ok', Namespace: 'team' }] };
    // Not in p1's default namespace, nor in the default partition.
    const missing = await serverCall('PUT', '/v1/session/create?partition=p1', '', { ...body, ServiceChecks: [{ ID: 'web-ok' }] });
    assert.deepEqual([missing.status, missing.text], [500, "Missing check 'web-ok' registration"]);
    const made = await serverCall('PUT', '/v1/session/create?partition=p1', '', body);
    assert.equal(made.status, 200, made.text);
    assert.equal((await serverCall('PUT', `/v1/kv/held?acquire=${made.json.ID}&partition=p1`, '', 'v')).text, 'true');
    assert.equal((await serverCall('PUT', '/v1/catalog/register', '', reg('critical'))).text, 'true');
    assert.deepEqual((await serverCall('GET', `/v1/session/info/${made.json.ID}?partition=p1`)).json, []);
    assert.equal((await serverCall('GET', '/v1/kv/held?partition=p1')).json[0].Session, undefined);
    // Purging the namespace (its checks go with it) invalidates a session of p1's default namespace tied to them.
    assert.equal((await serverCall('PUT', '/v1/catalog/register', '', reg('passing'))).text, 'true');
    const tied = (await serverCall('PUT', '/v1/session/create?partition=p1', '', body)).json.ID;
    assert.ok(tied);
    assert.equal((await serverCall('DELETE', '/v1/namespace/team?partition=p1')).status, 200);
    await until('the tied session invalidated by the purge', 20_000, async () => (await serverCall('GET', `/v1/session/info/${tied}?partition=p1`)).json.length === 0);
  });

  test('the p1 client leaving takes its p1 sessions (the leader deregisters it in p1)', async () => {
    const id = (await clientCall('PUT', '/v1/session/create', '', {})).json.ID;
    assert.ok(id);
    await client.stop();
    await until('the session gone with its node', 20_000, async () => (await serverCall('GET', `/v1/session/info/${id}?partition=p1`)).json.length === 0);
    assert.deepEqual((await serverCall('GET', '/v1/session/node/c1?partition=p1')).json, []);
  });
});
