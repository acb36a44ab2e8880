// Tenancy changes nothing for the default tenant: a default KV put, catalog register and ACL
// token create write exactly the keys and values Proconsul wrote before tenancy (frozen below),
// answers carry no Namespace/Partition, handlers not converted keep Consul CE's 400s; and a
// snapshot taken before tenancy (test/fixtures/pre-tenancy.*, made by pre-tenancy.make.ts with
// commit ae0cd71) restores and reads the same as that version read it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { aclDenyConfig, startAclAgent, httpCaller, ROOT, type HttpCall } from './support/acl.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { READS, TOKEN } from './fixtures/pre-tenancy.make.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url);

/** The keyspace as [key, value text] pairs. */
async function keyspace(dev: DevAgent): Promise<Map<string, string>> {
  return new Map((await dev.agent.store.range('')).kvs.map((kv) => [kv.key, Buffer.from(kv.value).toString()]));
}

describe('default-tenant writes are byte for byte as before tenancy', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    dev = await startAclAgent();
    call = httpCaller(() => dev.httpAddr);
  });
  after(() => dev.stop());

  test('KV put, catalog register and ACL token create', async () => {
    const before = await keyspace(dev);
    assert.equal((await call('PUT', '/v1/kv/golden/a?flags=42', ROOT, 'hello')).text, 'true');
    assert.equal((await call('PUT', '/v1/kv/golden/b', ROOT, 'plain')).text, 'true');
    const reg = await call('PUT', '/v1/catalog/register', ROOT, {
      Node: 'golden-node', Address: '10.1.2.3', NodeMeta: { rack: 'r1' }, Service: { ID: 'web-1', Service: 'web', Port: 80, Tags: ['a'] },
      Check: { CheckID: 'web-check', ServiceID: 'web-1', Name: 'web check', Status: 'passing' },
    });
    assert.equal(reg.text, 'true');
    const tok = await call('PUT', '/v1/acl/token', ROOT, { ...TOKEN, Description: 'golden' });
    assert.equal(tok.status, 200, tok.text);
    const created = tok.json.CreateTime as string;

    const after = await keyspace(dev);
    const written = [...after].filter(([k]) => !before.has(k));
    assert.deepEqual(Object.fromEntries(written), {
      'kv/golden/a': '{"Flags":42,"LockIndex":0,"Session":""}\nhello',
      'kv/golden/b': '{"Flags":0,"LockIndex":0,"Session":""}\nplain',
      'catalog/node/golden-node': '{"ID":"","Node":"golden-node","Address":"10.1.2.3","Datacenter":"dc1","TaggedAddresses":null,"Meta":{"rack":"r1"}}',
      'catalog/service/golden-node/web-1': '{"ID":"web-1","Service":"web","Tags":["a"],"Address":"","TaggedAddresses":null,"Meta":null,"Port":80,'
        + '"Weights":{"Passing":1,"Warning":1},"EnableTagOverride":false,"Proxy":{"Mode":"","MeshGateway":{},"Expose":{}},"Connect":{},"PeerName":"","Datacenter":"dc1"}',
      'catalog/check/golden-node/web-check': '{"Node":"golden-node","CheckID":"web-check","Name":"web check","Status":"passing","Notes":"","Output":"",'
        + '"ServiceID":"web-1","ServiceName":"web","ServiceTags":["a"],"Type":"","Interval":"","Timeout":"","ExposedPort":0,"Definition":{}}',
      'guard/node-name/golden-node': '',
      [`acl/token/${TOKEN.AccessorID}`]: `{"AccessorID":"${TOKEN.AccessorID}","SecretID":"${TOKEN.SecretID}","CreateTime":"${created}",`
        + '"Description":"golden","Local":false,"Hash":"OJQASWxbAZdNYQ4KO9l+5wB8XZE3DbPaX9V+B4NNQw8="}',
    });
    // Tenancy adds only its two builtin records, and no tenant key.
    assert.deepEqual([...after.keys()].filter((k) => k.startsWith('t/') || k.startsWith('tenancy/')).sort(), [
      'tenancy/namespace/default/default', 'tenancy/partition/default',
    ]);
    assert.deepEqual(JSON.parse(after.get('tenancy/partition/default')!), { Name: 'default', Description: 'Builtin Default Partition' });
  });

  test('answers carry no tenancy fields', async () => {
    // Every handler parsing a namespace or partition in Consul Enterprise takes them now: no CE 400 is left to keep.
    const kv = await call('GET', '/v1/kv/golden/a', ROOT);
    assert.deepEqual(Object.keys(kv.json[0]), ['LockIndex', 'Key', 'Flags', 'Value', 'CreateIndex', 'ModifyIndex']);
  });
});

describe('a snapshot from before tenancy', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    // Another node name than the agent that took the snapshot: its own node re-registers beside it.
    dev = await startDevAgent({ config: { ...aclDenyConfig(), nodeName: 'restore-node' } });
    call = httpCaller(() => dev.httpAddr);
  });
  after(() => dev.stop());

  test('restores and reads as the version that took it read it (indexes aside)', async () => {
    const archive = fs.readFileSync(new URL('pre-tenancy.snap', FIXTURES));
    const res = await fetch(`http://${dev.httpAddr}/v1/snapshot`, { method: 'PUT', body: archive, headers: { 'X-Consul-Token': ROOT } });
    assert.equal(res.status, 200, await res.text());
    const expected = JSON.parse(fs.readFileSync(new URL('pre-tenancy.json', FIXTURES), 'utf8')) as Record<string, string>;
    const noIndexes = (s: string) => s.replace(/"(CreateIndex|ModifyIndex)":\d+/g, '"$1":0');
    for (const p of READS) assert.equal(noIndexes((await call('GET', p, ROOT)).text), noIndexes(expected[p]), p);
    assert.equal(dev.agent.replica.tenants.ignored, 0);
    // The restore re-ran the leader duties: the builtin records are back.
    const keys = [...(await keyspace(dev)).keys()];
    assert.ok(keys.includes('tenancy/partition/default') && keys.includes('tenancy/namespace/default/default'), keys.join(' '));
    assert.equal(keys.some((k) => k.startsWith('t/')), false);
  });
});
