// Snapshots with tenants: a snapshot saved on an ACL agent holding a partition, namespaces and data
// in them (KV, a session holding a lock, ACL policy, role and token, a config entry) restores on
// another agent with every tenant read answering the same (indexes aside), the namespaced token
// still resolving in its namespace; `snapshot inspect` counts the records of every kind, tenant
// records as their inner kind, and -kvdetails breaks tenant keys down by their key.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAclAgent, httpCaller, ROOT, type HttpCall } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { readArchive, summarize } from '../src/snapshot/index.ts';

/** Tenant reads compared before and after the restore. */
const READS = [
  '/v1/partitions', '/v1/namespaces', '/v1/namespaces?partition=p1', '/v1/namespace/team-a',
  '/v1/kv/?recurse&ns=team-a', '/v1/kv/?recurse&ns=*', '/v1/kv/?recurse&ns=team-b&partition=p1', '/v1/kv/?recurse',
  '/v1/acl/policies?ns=team-a', '/v1/acl/roles?ns=team-a', '/v1/acl/tokens?ns=team-a', '/v1/acl/policies?ns=team-b&partition=p1',
  '/v1/config/service-defaults?ns=team-a',
];

const noIndexes = (s: string) => s.replace(/"(CreateIndex|ModifyIndex|LockIndex)":\d+/g, '"$1":0');

describe('snapshot save and restore with tenants', () => {
  let src: DevAgent;
  let dst: DevAgent;
  let call: HttpCall;
  let callDst: HttpCall;
  let archive: Buffer;
  let secret = '';
  let session = '';
  const expected = new Map<string, string>();

  before(async () => {
    src = await startAclAgent();
    dst = await startAclAgent();
    call = httpCaller(() => src.httpAddr);
    callDst = httpCaller(() => dst.httpAddr);
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, ROOT, body);
      assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
      return r.json;
    };
    await ok('PUT', '/v1/partition', { Name: 'p1', Description: 'first partition' });
    await ok('PUT', '/v1/namespace', { Name: 'team-a', Description: 'A', Meta: { owner: 'a' } });
    await ok('PUT', '/v1/namespace?partition=p1', { Name: 'team-b' });
    await ok('PUT', '/v1/kv/app/cfg?ns=team-a&flags=7', 'in team-a');
    await ok('PUT', '/v1/kv/app/cfg?ns=team-b&partition=p1', 'in p1/team-b');
    await ok('PUT', '/v1/kv/app/cfg', 'in default');
    session = (await ok('PUT', '/v1/session/create?ns=team-a', { Name: 'locker', LockDelay: '0s' })).ID;
    assert.equal(await ok('PUT', `/v1/kv/app/lock?ns=team-a&acquire=${session}`, 'held'), true);
    const policy = await ok('PUT', '/v1/acl/policy?ns=team-a', { Name: 'kv-read', Rules: 'key_prefix "" { policy = "read" }' });
    await ok('PUT', '/v1/acl/policy?ns=team-b&partition=p1', { Name: 'kv-read', Rules: 'key_prefix "" { policy = "read" }' });
    const role = await ok('PUT', '/v1/acl/role?ns=team-a', { Name: 'reader', Policies: [{ ID: policy.ID }] });
    secret = (await ok('PUT', '/v1/acl/token?ns=team-a', { Description: 'team-a reader', Roles: [{ ID: role.ID }] })).SecretID;
    await ok('PUT', '/v1/config?ns=team-a', { Kind: 'service-defaults', Name: 'web', Protocol: 'http' });
    for (const p of READS) expected.set(p, noIndexes((await call('GET', p, ROOT)).text));
    const res = await fetch(`http://${src.httpAddr}/v1/snapshot`, { headers: { 'X-Consul-Token': ROOT } });
    assert.equal(res.status, 200);
    archive = Buffer.from(await res.arrayBuffer());
  });
  after(async () => {
    await src?.stop();
    await dst?.stop();
  });

  test('restore on another agent: every tenant read answers the same; the namespaced token works in its namespace', async () => {
    // The agent's own tenants, not in the snapshot, are gone after it.
    assert.equal((await callDst('PUT', '/v1/namespace', ROOT, { Name: 'stale-ns' })).status, 200);
    assert.equal((await callDst('PUT', '/v1/kv/x?ns=stale-ns', ROOT, 'old')).json, true);
    const res = await fetch(`http://${dst.httpAddr}/v1/snapshot`, { method: 'PUT', body: archive, headers: { 'X-Consul-Token': ROOT } });
    assert.equal(res.status, 200, await res.text());
    for (const p of READS) assert.equal(noIndexes((await callDst('GET', p, ROOT)).text), expected.get(p), p);
    // Only the tenants' name guards have no table (slice 4); nothing else went unrouted.
    assert.equal(dst.agent.replica.tenants.ignored, src.agent.replica.tenants.ignored);
    assert.equal((await callDst('GET', '/v1/namespace/stale-ns', ROOT)).status, 404);
    assert.deepEqual((await dst.agent.store.range('t/default/stale-ns/')).kvs.map((kv) => kv.key), []);
    // The token reads team-a's keys only (its home namespace when the request names none); its session still holds the lock.
    assert.equal((await callDst('GET', '/v1/kv/app/cfg?ns=team-a&raw', secret)).text, 'in team-a');
    assert.equal((await callDst('GET', '/v1/kv/app/cfg?raw', secret)).text, 'in team-a');
    assert.equal((await callDst('GET', '/v1/kv/app/cfg?ns=default&raw', secret)).status, 403);
    const lock = (await callDst('GET', '/v1/kv/app/lock?ns=team-a', ROOT)).json[0];
    assert.equal(lock.Session, session);
    const info = await callDst('GET', `/v1/session/info/${session}?ns=team-a`, ROOT);
    assert.equal(info.json[0].Namespace, 'team-a', info.text);
    // Tenants restored are tenants like any other: one can be deleted, and its data goes.
    assert.equal((await callDst('DELETE', '/v1/namespace/team-a', ROOT)).status, 200);
    const gone = async () => (await callDst('GET', '/v1/namespace/team-a', ROOT)).status === 404;
    for (let i = 0; i < 100 && !(await gone()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await gone(), true);
    const keys = (await dst.agent.store.range('t/default/team-a/')).kvs.map((kv) => kv.key);
    assert.deepEqual(keys, []);
  });

  test('inspect counts namespaces, partitions and tenant records; -kvdetails includes tenant keys', async () => {
    const { state } = await readArchive(archive);
    const s = await summarize(state, { depth: 2, filter: '' });
    const count = (name: string) => s.Stats.find((t) => t.Name === name)?.Count ?? 0;
    assert.equal(count('Partition'), 2);
    // default/default, default/team-a, p1/default, p1/team-b.
    assert.equal(count('Namespace'), 4);
    // app/cfg in three tenants, and team-a's app/lock.
    assert.equal(count('KVS'), 4);
    assert.equal(count('Session'), 1);
    // Each namespace's kv-read plus the builtin policies; the team-a token plus the root and anonymous tokens.
    const builtin = (await callDst('GET', '/v1/acl/policies', ROOT)).json.length;
    assert.equal(count('ACLPolicy'), builtin + 2);
    assert.equal(count('ACLRole'), 1);
    assert.ok(count('ACLToken') >= 3, JSON.stringify(s.Stats));
    assert.ok(count('ConfigEntry') >= 1);
    assert.deepEqual(s.StatsKV?.map((t) => [t.Name, t.Count]).sort(), [['app/cfg', 3], ['app/lock', 1]]);
    const filtered = await summarize(state, { depth: 1, filter: 'app/l' });
    assert.deepEqual(filtered.StatsKV?.map((t) => [t.Name, t.Count]), [['app', 1]]);
  });
});
