// A client agent in an admin partition forwards requests naming no partition into its own, as
// Consul Enterprise's agent fills its partition in (defaultMetaPartitionToAgent): KV, config
// entries and intentions written through it land in that partition, reads through it see that
// partition's data, and a request (or a written body) naming a partition keeps it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpCaller, type HttpCall } from './support/acl.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';
import { createAgent, createClientAgent, type Agent, type ClientAgent } from '../src/index.ts';
import { loadConfig, type RuntimeConfig } from '../src/agent/config/index.ts';
import { silentLogger } from '../src/log.ts';

/**
 * A server and a client agent with `partition = "p1"` (p1 created first); `hcl` goes into both configs, `root` is the token the
 * setup calls use, `tweak` changes both loaded configs (settings no config file sets).
 */
function cluster(name: string, hcl = '', root = '', tweak: (config: RuntimeConfig) => void = () => {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `proconsul-ap-${name}-`));
  const c = {} as { server: Agent; client: ClientAgent; serverCall: HttpCall; clientCall: HttpCall; clientPort: number };
  const config = async (file: string, text: string) => {
    fs.writeFileSync(path.join(dir, `${file}.hcl`), text);
    const loaded = (await loadConfig({ args: ['-config-file', path.join(dir, `${file}.hcl`)], env: {} })).config;
    tweak(loaded);
    return loaded;
  };
  const common = (http: number, serf: number, rpc: number) => `data_dir = "${dir}/${http}"
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
ports { http = ${http} https = -1 dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${serf} serf_wan = -1 server = ${rpc} }
${hcl}
`;
  before(async () => {
    const [sh, ss, sr, ch, cs] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    c.server = createAgent(await config('s', `node_name = "s1"\nserver = true\nbootstrap_expect = 1\n${common(sh, ss, sr)}`), { logger: silentLogger() });
    await c.server.start();
    c.serverCall = httpCaller(() => `127.0.0.1:${sh}`);
    await until('a leader', 20_000, async () => (await c.serverCall('GET', '/v1/status/leader')).json !== '' && (await c.serverCall('GET', '/v1/partitions', root)).status === 200);
    assert.equal((await c.serverCall('PUT', '/v1/partition', root, { Name: 'p1' })).status, 200);
    c.client = createClientAgent(await config('c', `node_name = "c1"\npartition = "p1"\nretry_join = ["127.0.0.1:${ss}"]\n${common(ch, cs, sr)}`), { logger: silentLogger() });
    await c.client.start();
    c.clientPort = ch;
    c.clientCall = httpCaller(() => `127.0.0.1:${ch}`);
    await until('the client knows the server', 20_000, async () => c.client.servers.servers().length > 0);
  });
  after(async () => {
    await c.client?.stop();
    await c.server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return c;
}

describe('requests forwarded by a client agent in partition p1', () => {
  const c = cluster('forward');
  const serverCall: HttpCall = (...a) => c.serverCall(...a);
  const clientCall: HttpCall = (...a) => c.clientCall(...a);

  test('KV: written through the client into p1, read through it from p1; a named partition is kept', async () => {
    assert.equal((await serverCall('PUT', '/v1/kv/shared', '', 'in-default')).text, 'true');
    assert.equal((await clientCall('PUT', '/v1/kv/shared', '', 'in-p1')).text, 'true');
    assert.equal((await clientCall('PUT', '/v1/kv/only-p1', '', 'x')).text, 'true');
    const value = async (call: HttpCall, q: string) => {
      const res = await call('GET', `/v1/kv/shared${q}`);
      return res.status === 200 ? [Buffer.from(res.json[0].Value, 'base64').toString(), res.json[0].Partition] : res.status;
    };
    assert.deepEqual(await value(serverCall, '?partition=p1'), ['in-p1', 'p1']);
    assert.deepEqual(await value(serverCall, ''), ['in-default', undefined]);
    assert.equal((await serverCall('GET', '/v1/kv/only-p1')).status, 404, 'not in the default partition');
    assert.deepEqual(await value(clientCall, ''), ['in-p1', 'p1']);
    // Naming a partition, by query or header, reads that one.
    assert.deepEqual(await value(clientCall, '?partition=default'), ['in-default', 'default']);
    const byHeader = await fetch(`http://127.0.0.1:${c.clientPort}/v1/kv/shared?raw`, { headers: { 'X-Consul-Partition': 'default' } });
    assert.equal(await byHeader.text(), 'in-default');
    const keys = (await clientCall('GET', '/v1/kv/?keys')).json;
    assert.deepEqual(keys, ['only-p1', 'shared']);
    assert.equal((await clientCall('DELETE', '/v1/kv/only-p1')).text, 'true');
    assert.equal((await serverCall('GET', '/v1/kv/only-p1?partition=p1')).status, 404);
  });

  test('config entries: written through the client into p1, read and listed through it from p1; a body Partition wins', async () => {
    const put = await clientCall('PUT', '/v1/config', '', { Kind: 'service-defaults', Name: 'web', Protocol: 'http' });
    assert.equal(put.text, 'true', put.text);
    assert.equal((await serverCall('GET', '/v1/config/service-defaults/web')).status, 404, 'not in the default partition');
    const inP1 = await serverCall('GET', '/v1/config/service-defaults/web?partition=p1');
    assert.deepEqual([inP1.status, inP1.json?.Protocol, inP1.json?.Partition], [200, 'http', 'p1']);
    const read = (await clientCall('GET', '/v1/config/service-defaults/web')).json;
    assert.deepEqual([read.Protocol, read.Partition], ['http', 'p1']);
    assert.deepEqual((await clientCall('GET', '/v1/config/service-defaults')).json.map((e: any) => [e.Name, e.Partition]), [['web', 'p1']]);
    // The object's own Partition takes precedence over the agent's.
    assert.equal((await clientCall('PUT', '/v1/config', '', { Kind: 'service-defaults', Name: 'db', Protocol: 'grpc', Partition: 'default' })).text, 'true');
    assert.equal((await serverCall('GET', '/v1/config/service-defaults/db')).json?.Protocol, 'grpc');
    assert.equal((await serverCall('GET', '/v1/config/service-defaults/db?partition=p1')).status, 404);
    // A cached read is sent by the agent cache: it names p1 as well (the chain's protocol is p1's service-defaults).
    const chain = await clientCall('GET', '/v1/discovery-chain/web?cached');
    assert.equal(chain.status, 200, chain.text);
    assert.equal(chain.json.Chain.Protocol, 'http');
    assert.equal(chain.json.Chain.Partition, 'p1');
    assert.equal((await serverCall('GET', '/v1/discovery-chain/web')).json.Chain.Protocol, 'tcp');
  });

  test('intentions: written through the client into p1, read through it from p1', async () => {
    const put = await clientCall('PUT', '/v1/connect/intentions/exact?source=api&destination=web', '', { Action: 'deny' });
    assert.equal(put.status, 200, put.text);
    assert.equal((await serverCall('GET', '/v1/connect/intentions/exact?source=api&destination=web')).status, 404, 'not in the default partition');
    const inP1 = (await serverCall('GET', '/v1/connect/intentions/exact?source=api&destination=web&partition=p1')).json;
    assert.deepEqual([inP1.Action, inP1.DestinationPartition], ['deny', 'p1']);
    const read = (await clientCall('GET', '/v1/connect/intentions/exact?source=api&destination=web')).json;
    assert.deepEqual([read.Action, read.DestinationPartition], ['deny', 'p1']);
    assert.deepEqual((await clientCall('GET', '/v1/connect/intentions')).json.map((i: any) => [i.SourceName, i.DestinationName, i.DestinationPartition]), [['api', 'web', 'p1']]);
    assert.deepEqual((await serverCall('GET', '/v1/connect/intentions')).json, []);
    // The entry behind it is p1's service-intentions.
    assert.equal((await serverCall('GET', '/v1/config/service-intentions/web?partition=p1')).json?.Sources?.[0]?.Action, 'deny');
    const check = (await clientCall('GET', '/v1/connect/intentions/check?source=api&destination=web')).json;
    assert.equal(check.Allowed, false);
  });

  test("a sidecar registered on the client gets p1's central config, its bare upstream p1's", async () => {
    // p1 has service-defaults web (http) and none for db; the default partition has db (grpc) and no web.
    const reg = await clientCall('PUT', '/v1/agent/service/register', '', {
      Name: 'web-sidecar-proxy', Kind: 'connect-proxy', Port: 21000,
      Proxy: { DestinationServiceName: 'web', DestinationServiceID: 'web', Upstreams: [{ DestinationName: 'db', LocalBindPort: 9191 }] },
    });
    assert.equal(reg.status, 200, reg.text);
    const svc = await clientCall('GET', '/v1/agent/service/web-sidecar-proxy');
    assert.equal(svc.status, 200, svc.text);
    assert.equal(svc.json.Proxy.Config?.protocol, 'http', JSON.stringify(svc.json.Proxy));
    assert.deepEqual([svc.json.Proxy.Upstreams[0].DestinationName, svc.json.Proxy.Upstreams[0].Config?.protocol], ['db', undefined], JSON.stringify(svc.json.Proxy.Upstreams));
    assert.equal((await clientCall('PUT', '/v1/agent/service/deregister/web-sidecar-proxy')).status, 200);
  });
});

describe('ACL requests forwarded by a client agent in partition p1', () => {
  const c = cluster('acl', 'acl {\n  enabled = true\n  default_policy = "deny"\n  tokens {\n    initial_management = "root"\n    agent = "root"\n  }\n}', 'root');

  test('a policy and a token made through the client are p1\'s; the token reads p1\'s KV through the client', async () => {
    const policy = await c.clientCall('PUT', '/v1/acl/policy', 'root', { Name: 'kv-read', Rules: 'key_prefix "" { policy = "read" }' });
    assert.equal(policy.status, 200, policy.text);
    assert.equal(policy.json.Partition, 'p1');
    assert.deepEqual((await c.serverCall('GET', '/v1/acl/policies?partition=p1', 'root')).json.map((p: any) => p.Name), ['kv-read']);
    assert.ok(!(await c.serverCall('GET', '/v1/acl/policies', 'root')).json.some((p: any) => p.Name === 'kv-read'), 'not in the default partition');
    assert.deepEqual((await c.clientCall('GET', '/v1/acl/policies', 'root')).json.map((p: any) => p.Name), ['kv-read']);
    // Linked by name: the name is looked up in p1.
    const token = await c.clientCall('PUT', '/v1/acl/token', 'root', { Policies: [{ Name: 'kv-read' }] });
    assert.equal(token.status, 200, token.text);
    assert.deepEqual([token.json.Partition, token.json.Policies[0].ID], ['p1', policy.json.ID]);
    const self = (await c.clientCall('GET', '/v1/acl/token/self', token.json.SecretID)).json;
    assert.deepEqual([self.AccessorID, self.Partition], [token.json.AccessorID, 'p1']);
    assert.equal((await c.serverCall('GET', `/v1/acl/token/${token.json.AccessorID}`, 'root')).status, 403, 'no such token in the default partition');
    assert.equal((await c.serverCall('GET', `/v1/acl/token/${token.json.AccessorID}?partition=p1`, 'root')).json.AccessorID, token.json.AccessorID);

    assert.equal((await c.clientCall('PUT', '/v1/kv/a', 'root', 'in-p1')).text, 'true');
    assert.equal((await c.clientCall('GET', '/v1/kv/a?raw', token.json.SecretID)).text, 'in-p1');
    assert.equal((await c.clientCall('PUT', '/v1/kv/a', token.json.SecretID, 'no')).status, 403);
  });
});

describe('coordinates of a client agent in partition p1', () => {
  // Coordinates sent every 100-200 ms and written every 20 ms (Consul's internal settings; no config file sets them).
  const c = cluster('coord', '', '', (config) => {
    config.raw.sync_coordinate_interval_min = '100ms';
    config.raw.consul = { ...(config.raw.consul as object), coordinate: { update_period: '20ms' } };
  });

  test('its coordinate is stored in p1, read through it and with ?partition=p1, not in the default partition', async () => {
    const inP1 = async (call: HttpCall, q: string) => ((await call('GET', `/v1/coordinate/nodes${q}`)).json as any[]).filter((e) => e.Node === 'c1');
    await until('the client\'s coordinate in p1', 20_000, async () => (await inP1(c.serverCall, '?partition=p1')).length === 1);
    assert.deepEqual((await inP1(c.serverCall, '?partition=p1')).map((e) => [e.Node, e.Partition]), [['c1', 'p1']]);
    assert.deepEqual((await inP1(c.clientCall, '')).map((e) => [e.Node, e.Partition]), [['c1', 'p1']]);
    assert.deepEqual(await inP1(c.serverCall, ''), [], 'not a default-partition coordinate');
    assert.equal((await c.clientCall('GET', '/v1/coordinate/node/c1')).status, 200);
    assert.equal((await c.serverCall('GET', '/v1/coordinate/node/c1')).status, 404);
  });
});
