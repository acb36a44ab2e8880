// Namespaces and admin partitions end to end against a dev agent over HTTP: CRUD and upsert with
// indexes, Consul Enterprise's JSON shapes, blocking lists, deferred deletion finished by the
// leader's reaper (every key of the tenant gone, then the record), ACLs on an ACL-enabled agent,
// and the `proconsul namespace|partition` commands with their pretty and JSON output.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';
import { runCliCaptured } from './support/cli.ts';
import { tenantKey } from '../src/state/index.ts';

interface Answer { status: number; text: string; json: any; index: number }

function caller(a: () => DevAgent) {
  return async (method: string, path: string, body?: unknown, token = ''): Promise<Answer> => {
    const res = await fetch(`http://${a().httpAddr}${path}`, {
      method, headers: token ? { 'X-Consul-Token': token } : {}, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, text, json, index: Number(res.headers.get('x-consul-index') ?? 0) };
  };
}

/** Resolves when `probe` holds, polling the agent's replica (the reaper runs in the background). */
async function until(probe: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition never held');
}

describe('namespaces and partitions (ACLs off)', () => {
  let a: DevAgent;
  const call = caller(() => a);
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-ns-'));
  const cli = (argv: string[], stdin?: string) => runCliCaptured(argv, { CONSUL_HTTP_ADDR: a.httpAddr }, stdin);
  before(async () => { a = await startDevAgent(); });
  after(() => a.stop());

  test('create, read, upsert, list: Consul Enterprise shapes and indexes; missing reads are a bare 404', async () => {
    const created = await call('PUT', '/v1/namespace', { Name: 'team-1', Description: 'Team one', Meta: { owner: 'x' } });
    assert.equal(created.status, 200, created.text);
    const c = created.json;
    assert.deepEqual(Object.keys(c), ['Name', 'Description', 'Meta', 'Partition', 'CreateIndex', 'ModifyIndex']);
    assert.deepEqual([c.Name, c.Description, c.Meta, c.Partition], ['team-1', 'Team one', { owner: 'x' }, 'default']);
    const read = await call('GET', '/v1/namespace/team-1');
    assert.deepEqual(read.json, c);
    assert.ok(read.index >= c.ModifyIndex);
    // PUT of an existing name is an upsert; the path form takes the name from the URL.
    const up = (await call('PUT', '/v1/namespace/team-1', { Description: 'changed' })).json;
    assert.equal(up.CreateIndex, c.CreateIndex);
    assert.ok(up.ModifyIndex > c.ModifyIndex);
    assert.equal(up.Meta, undefined);
    assert.equal((await call('PUT', '/v1/namespace', { Name: 'team-1', Description: 'again' })).json.CreateIndex, c.CreateIndex);
    const mismatch = await call('PUT', '/v1/namespace/team-1', { Name: 'other' });
    assert.equal(mismatch.status, 400);
    assert.equal((await call('PUT', '/v1/namespace', { Description: 'nameless' })).text, 'Must specify a Name for Namespace creation');
    assert.equal((await call('PUT', '/v1/namespace', { Name: 'Not_valid' })).status, 400);
    const badPartition = await call('PUT', '/v1/namespace', { Name: 'team-x', Partition: 'a/b' });
    assert.deepEqual([badPartition.status, badPartition.text], [400, 'Invalid partition name "a/b": must be a valid DNS hostname label']);
    assert.equal((await call('PUT', '/v1/namespace', { Name: 'team-1', Partition: 'Default' })).json.CreateIndex, c.CreateIndex);
    const missing = await call('GET', '/v1/namespace/nope');
    assert.deepEqual([missing.status, missing.text], [404, '']);
    const list = await call('GET', '/v1/namespaces');
    assert.deepEqual(list.json.map((n: any) => n.Name), ['default', 'team-1']);
    assert.equal(list.json[0].Description, 'Builtin Default Namespace');
    assert.equal(list.index, Math.max(...list.json.map((n: any) => n.ModifyIndex)));
    // Partition reads and lists do not block (Consul Enterprise: "Blocking Queries: no").
    const parts = await call('GET', `/v1/partitions?index=${2 ** 40}&wait=30s`);
    assert.ok(Array.isArray(parts.json));
    assert.deepEqual(parts.json.map((p: any) => [p.Name, p.Description]), [['default', 'Builtin Default Partition']]);
  });

  test('a blocking namespace list returns when a namespace is written', async () => {
    const first = await call('GET', '/v1/namespaces');
    const blocked = call('GET', `/v1/namespaces?index=${first.index}&wait=30s`);
    await new Promise((r) => setTimeout(r, 50));
    await call('PUT', '/v1/namespace', { Name: 'blocker' });
    const woke = await blocked;
    assert.ok(woke.index > first.index);
    assert.ok(woke.json.some((n: any) => n.Name === 'blocker'));
    // A blocked single read returns when the namespace changes.
    const one = await call('GET', '/v1/namespace/blocker');
    const held = call('GET', `/v1/namespace/blocker?index=${one.index}&wait=30s`);
    await new Promise((r) => setTimeout(r, 50));
    await call('PUT', '/v1/namespace/blocker', { Description: 'woken' });
    const after1 = await held;
    assert.equal(after1.json.Description, 'woken');
    assert.ok(after1.index > one.index);
  });

  test('partitions: create with their own default namespace, namespaces inside them, the default undeletable', async () => {
    const p = await call('PUT', '/v1/partition', { Name: 'west', Description: 'West side' });
    assert.deepEqual(Object.keys(p.json), ['Name', 'Description', 'CreateIndex', 'ModifyIndex']);
    assert.equal((await call('GET', '/v1/partition/west')).json.Description, 'West side');
    assert.deepEqual([(await call('GET', '/v1/partition/nope')).status], [404]);
    const bad = await call('PUT', '/v1/partition', { Name: 'bad_name' });
    assert.deepEqual([bad.status, bad.text], [400, 'Invalid partition name "bad_name": must be a valid DNS hostname label']);
    const inWest = await call('PUT', '/v1/namespace?partition=west', { Name: 'web' });
    assert.equal(inWest.json.Partition, 'west');
    assert.deepEqual((await call('GET', '/v1/namespaces?partition=west')).json.map((n: any) => n.Name), ['default', 'web']);
    assert.equal((await call('PUT', '/v1/namespace', { Name: 'x', Partition: 'nowhere' })).text, 'Partition "nowhere" does not exist');
    assert.equal((await call('DELETE', '/v1/namespace/default')).status, 400);
    assert.equal((await call('DELETE', '/v1/partition/default')).status, 400);
  });

  test('delete marks DeletedAt; the leader reaper deletes every key of the tenant, then the record', async () => {
    await call('PUT', '/v1/namespace', { Name: 'doomed' });
    const { store, replica } = a.agent;
    const ent = { partition: 'default', namespace: 'doomed' };
    const keys = ['kv/app/cfg', 'session/s1', 'catalog/node/n1', 'acl/token/t1'].map((k) => tenantKey(ent, k));
    const kept = tenantKey({ partition: 'default', namespace: 'team-1' }, 'kv/app/cfg');
    await store.txn({ compares: [], success: [...keys, kept].map((key) => ({ type: 'put' as const, key, value: Buffer.from('{}') })) });
    const del = await call('DELETE', '/v1/namespace/doomed');
    assert.deepEqual([del.status, del.text], [200, ''], del.text);
    await until(() => !replica.tenants.namespaces.namespace(ent));
    assert.deepEqual((await store.range(tenantKey(ent, ''))).kvs, []);
    assert.deepEqual((await store.range('t/default/team-1/')).kvs.map((kv) => kv.key), [kept]);
    assert.equal((await call('GET', '/v1/namespace/doomed')).status, 404);
    // A partition goes with all of its namespaces and their data.
    await call('PUT', '/v1/partition', { Name: 'gone' });
    await call('PUT', '/v1/namespace?partition=gone', { Name: 'inner' });
    await store.txn({ compares: [], success: [tenantKey({ partition: 'gone', namespace: 'inner' }, 'kv/a'), tenantKey({ partition: 'gone', namespace: 'default' }, 'kv/b')].map((key) => ({ type: 'put' as const, key, value: Buffer.from('{}') })) });
    await call('DELETE', '/v1/partition/gone');
    await until(() => !replica.tenants.partitions.partition('gone'));
    assert.deepEqual((await store.range('t/gone/')).kvs, []);
    assert.deepEqual((await store.range('tenancy/namespace/gone/')).kvs, []);
  });

  test('CLI: namespace create/read/update/list/write/delete with Consul\'s output and -format json', async () => {
    assert.deepEqual(await cli(['namespace', 'create', '-name', 'cli-ns', '-description', 'From CLI', '-meta', 'team-id=42']), {
      code: 0, out: 'Name: cli-ns\nDescription:\n   From CLI\nMeta:\n   team-id: 42\n', err: '',
    });
    const read = await cli(['namespace', 'read', '-meta', 'cli-ns']);
    assert.match(read.out, /^Name: cli-ns\nDescription:\n {3}From CLI\nMeta:\n {3}team-id: 42\nCreate Index: \d+\nModify Index: \d+\n$/);
    const json = await cli(['namespace', 'read', '-format', 'json', 'cli-ns']);
    const parsed = JSON.parse(json.out);
    assert.deepEqual(Object.keys(parsed), ['Name', 'Description', 'Meta', 'Partition', 'CreateIndex', 'ModifyIndex']);
    assert.ok(json.out.startsWith('{\n   "Name": "cli-ns",\n'));
    assert.deepEqual(await cli(['namespace', 'update', '-name', 'cli-ns', '-meta', 'b=2', '-merge-meta']), {
      code: 0, out: 'Name: cli-ns\nDescription:\n   From CLI\nMeta:\n   b: 2\n   team-id: 42\n', err: '',
    });
    assert.deepEqual(await cli(['namespace', 'read', 'missing-ns']), { code: 1, out: '', err: 'Namespace not found: missing-ns\n' });
    assert.deepEqual(await cli(['namespace', 'create']), { code: 1, out: '', err: 'Missing the required -name flag\n' });
    assert.deepEqual(await cli(['namespace', 'list', '-format', 'xml']), { code: 1, out: '', err: 'Invalid format, valid formats are {pretty|json}\n' });
    const hcl = join(dir, 'ns.hcl');
    writeFileSync(hcl, 'Name = "from-hcl"\nDescription = "Example Namespace"\nMeta {\n  team-id = "574407f3"\n}\n');
    assert.deepEqual(await cli(['namespace', 'write', hcl]), {
      code: 0, out: 'Name: from-hcl\nDescription:\n   Example Namespace\nMeta:\n   team-id: 574407f3\n', err: '',
    });
    const fromStdin = await cli(['namespace', 'write', '-format', 'json', '-'], '{"Name": "from-json", "Description": "d"}');
    assert.equal(fromStdin.code, 0, fromStdin.err);
    assert.equal(JSON.parse(fromStdin.out).Name, 'from-json');
    const list = await cli(['namespace', 'list']);
    assert.match(list.out, /(^|\n)default:\n {3}Description:\n {6}Builtin Default Namespace\n/);
    assert.match(list.out, /\ncli-ns:\n {3}Description:\n {6}From CLI\n/);
    assert.ok(list.out.endsWith('\n\n'), 'a blank line after the list, as Consul prints it');
    const listJson = JSON.parse((await cli(['namespace', 'list', '-format', 'json'])).out);
    assert.ok(listJson.some((n: any) => n.Name === 'from-hcl'));
    assert.deepEqual(await cli(['namespace', 'delete', 'from-json']), { code: 0, out: '', err: '' });
    await until(() => !a.agent.replica.tenants.namespaces.namespace({ partition: 'default', namespace: 'from-json' }));
    assert.equal((await cli(['namespace', 'create', '-name', 'in-west', '-partition', 'west', '-format', 'json'])).code, 0);
    assert.equal(JSON.parse((await cli(['namespace', 'read', '-partition', 'west', '-format', 'json', 'in-west'])).out).Partition, 'west');
  });

  test('CLI: partition create/read/list/update/write/delete', async () => {
    assert.deepEqual(await cli(['partition', 'create', '-name', 'webdev', '-description', 'Partition for webdev']), {
      code: 0, out: 'Name: webdev\nDescription:\n   Partition for webdev\n', err: '',
    });
    const json = JSON.parse((await cli(['partition', 'read', '-format', 'json', 'webdev'])).out);
    assert.deepEqual(Object.keys(json), ['Name', 'Description', 'CreateIndex', 'ModifyIndex']);
    assert.match((await cli(['partition', 'update', '-name', 'webdev', '-description', 'changed', '-show-meta'])).out, /^Name: webdev\nDescription:\n {3}changed\nCreate Index: \d+\nModify Index: \d+\n$/);
    assert.equal((await cli(['partition', 'write', '-format', 'json', '-'], 'name = "webdev-bu"\ndescription = "backup webdev partition"')).code, 0);
    const list = JSON.parse((await cli(['partition', 'list', '-format', 'json'])).out);
    assert.deepEqual(list.map((p: any) => p.Name).filter((n: string) => n.startsWith('webdev') || n === 'default'), ['default', 'webdev', 'webdev-bu']);
    assert.deepEqual(await cli(['partition', 'read', 'nope']), { code: 1, out: '', err: 'Partition not found: nope\n' });
    assert.deepEqual(await cli(['partition', 'delete', 'webdev-bu']), { code: 0, out: '', err: '' });
    await until(() => !a.agent.replica.tenants.partitions.partition('webdev-bu'));
  });
});

describe('namespaces and partitions with ACLs (default deny)', () => {
  const ROOT = 'root';
  let a: DevAgent;
  const call = caller(() => a);
  before(async () => {
    const acl = { ...devConfig().acl, enabled: true, defaultPolicy: 'deny' as const, tokens: { ...devConfig().acl.tokens, initialManagement: ROOT } };
    a = await startDevAgent({ config: { acl } });
  });
  after(() => a.stop());

  async function token(rules: string): Promise<{ SecretID: string; AccessorID: string }> {
    const p = await call('PUT', '/v1/acl/policy', { Name: `p-${Math.random().toString(36).slice(2)}`, Rules: rules }, ROOT);
    return (await call('PUT', '/v1/acl/token', { Policies: [{ ID: p.json.ID }] }, ROOT)).json;
  }

  test('operator:write or a namespace block manages; reads need operator:read or access inside; lists are filtered', async () => {
    for (const name of ['team-a', 'team-b']) assert.equal((await call('PUT', '/v1/namespace', { Name: name }, ROOT)).status, 200);
    const reader = await token('operator = "read"');
    const denied = await call('PUT', '/v1/namespace', { Name: 'x' }, reader.SecretID);
    assert.deepEqual([denied.status, denied.text], [403, `Permission denied: token with AccessorID '${reader.AccessorID}' lacks permission 'operator:write'`]);
    assert.equal((await call('GET', '/v1/namespace/team-a', undefined, reader.SecretID)).status, 200);
    const block = await token('namespace "team-a" { policy = "write" }');
    assert.equal((await call('PUT', '/v1/namespace/team-a', { Description: 'mine' }, block.SecretID)).status, 200);
    assert.equal((await call('PUT', '/v1/namespace/team-b', { Description: 'not mine' }, block.SecretID)).status, 403);
    const inside = await token('namespace "team-b" { key_prefix "" { policy = "read" } }');
    assert.equal((await call('GET', '/v1/namespace/team-b', undefined, inside.SecretID)).status, 200);
    assert.equal((await call('GET', '/v1/namespace/team-a', undefined, inside.SecretID)).status, 403);
    const res = await fetch(`http://${a.httpAddr}/v1/namespaces`, { headers: { 'X-Consul-Token': inside.SecretID } });
    assert.deepEqual(((await res.json()) as any[]).map((n) => n.Name), ['team-b']);
    assert.equal(res.headers.get('x-consul-results-filtered-by-acls'), 'true');
    // Linking default policies needs acl:write too.
    const pol = await call('PUT', '/v1/acl/policy', { Name: 'ns-default', Rules: 'key_prefix "" { policy = "read" }' }, ROOT);
    const opWrite = await token('operator = "write"');
    assert.equal((await call('PUT', '/v1/namespace', { Name: 'linked', ACLs: { PolicyDefaults: [{ Name: 'ns-default' }] } }, opWrite.SecretID)).status, 403);
    const linked = await call('PUT', '/v1/namespace', { Name: 'linked', ACLs: { PolicyDefaults: [{ Name: 'ns-default' }] } }, ROOT);
    assert.deepEqual(linked.json.ACLs, { PolicyDefaults: [{ ID: pol.json.ID, Name: 'ns-default' }], RoleDefaults: [] });
    assert.equal((await call('PUT', '/v1/namespace', { Name: 'bad-link', ACLs: { PolicyDefaults: [{ Name: 'nope' }] } }, ROOT)).status, 400);
  });

  test('partitions: operator:write to manage; a non-anonymous token reads its own partition; anonymous nothing', async () => {
    assert.equal((await call('PUT', '/v1/partition', { Name: 'east' }, ROOT)).status, 200);
    const some = await token('key_prefix "" { policy = "read" }');
    assert.equal((await call('GET', '/v1/partition/default', undefined, some.SecretID)).status, 200);
    assert.equal((await call('GET', '/v1/partition/east', undefined, some.SecretID)).status, 403);
    assert.equal((await call('GET', '/v1/partition/default')).status, 403);
    assert.deepEqual((await call('GET', '/v1/partitions', undefined, some.SecretID)).json.map((p: any) => p.Name), ['default']);
    assert.equal((await call('DELETE', '/v1/partition/east', undefined, some.SecretID)).status, 403);
    const cli = await runCliCaptured(['partition', 'list', '-format', 'json'], { CONSUL_HTTP_ADDR: a.httpAddr, CONSUL_HTTP_TOKEN: ROOT });
    assert.deepEqual(JSON.parse(cli.out).map((p: any) => p.Name), ['default', 'east']);
  });
});
