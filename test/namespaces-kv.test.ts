// KV, sessions, locks and txn KV in namespaces (Consul Enterprise's ?ns= / X-Consul-Namespace):
// one namespace's keys are independent of another's, blocking reads wake only for their namespace,
// `ns=*` reads every namespace, writes into a missing or deleting namespace are refused, and ACL
// namespace blocks govern keys inside their namespace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAclAgent, httpCaller, tokenWithRules, ROOT, type HttpCall } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { seedTenants } from './support/tenancy.ts';
import { SessionsTable, TenantTables, encodeRecord, namespaceKey } from '../src/state/index.ts';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('KV in namespaces', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    dev = await startAclAgent();
    call = httpCaller(() => dev.httpAddr);
    await seedTenants(dev.agent.store, ['team-a', 'team-b']);
  });
  after(() => dev.stop());

  test('the same key in two namespaces and the default one is three independent entries', async () => {
    assert.equal((await call('PUT', '/v1/kv/app/cfg', ROOT, 'default')).text, 'true');
    assert.equal((await call('PUT', '/v1/kv/app/cfg?ns=team-a', ROOT, 'a')).text, 'true');
    const viaHeader = await fetch(`http://${dev.httpAddr}/v1/kv/app/cfg`, {
      method: 'PUT', headers: { 'X-Consul-Token': ROOT, 'X-Consul-Namespace': 'team-b' }, body: 'b',
    });
    assert.equal(await viaHeader.text(), 'true');

    const plain = await call('GET', '/v1/kv/app/cfg', ROOT);
    assert.equal(plain.json[0].Value, b64('default'));
    assert.ok(!('Namespace' in plain.json[0]), 'a CE request sees no tenancy fields');
    const a = await call('GET', '/v1/kv/app/cfg?ns=team-a', ROOT);
    assert.equal(a.json[0].Value, b64('a'));
    assert.deepEqual(Object.keys(a.json[0]), ['LockIndex', 'Key', 'Flags', 'Value', 'Namespace', 'Partition', 'CreateIndex', 'ModifyIndex']);
    assert.deepEqual([a.json[0].Namespace, a.json[0].Partition], ['team-a', 'default']);
    const b = await call('GET', '/v1/kv/app/cfg?ns=team-b&raw', ROOT);
    assert.equal(b.text, 'b');
    const named = await call('GET', '/v1/kv/app/cfg?ns=default', ROOT);
    assert.deepEqual([named.json[0].Value, named.json[0].Namespace, named.json[0].Partition], [b64('default'), 'default', 'default']);

    // Stored under the tenant prefix; the default key is today's.
    const keys = (await dev.agent.store.range('')).kvs.map((kv) => kv.key);
    assert.ok(keys.includes('kv/app/cfg'));
    assert.ok(keys.includes('t/default/team-a/kv/app/cfg'));
    assert.ok(keys.includes('t/default/team-b/kv/app/cfg'));

    // Delete in one namespace leaves the others.
    assert.equal((await call('DELETE', '/v1/kv/app/cfg?ns=team-b', ROOT)).text, 'true');
    assert.equal((await call('GET', '/v1/kv/app/cfg?ns=team-b', ROOT)).status, 404);
    assert.equal((await call('GET', '/v1/kv/app/cfg?ns=team-a', ROOT)).status, 200);
    assert.equal((await call('GET', '/v1/kv/app/cfg', ROOT)).status, 200);

    // cas in a namespace compares that namespace's index.
    const idx = a.json[0].ModifyIndex;
    assert.equal((await call('PUT', `/v1/kv/app/cfg?ns=team-a&cas=${plain.json[0].ModifyIndex}`, ROOT, 'x')).text, 'false');
    assert.equal((await call('PUT', `/v1/kv/app/cfg?ns=team-a&cas=${idx}`, ROOT, 'a2')).text, 'true');
    assert.equal((await call('GET', '/v1/kv/app/cfg?ns=team-a&raw', ROOT)).text, 'a2');
    assert.equal((await call('GET', '/v1/kv/app/cfg?raw', ROOT)).text, 'default');
  });

  test('recurse and keys with ns=* read every namespace; one key with * is refused', async () => {
    await call('PUT', '/v1/kv/wild/1', ROOT, 'd');
    await call('PUT', '/v1/kv/wild/1?ns=team-a', ROOT, 'a');
    await call('PUT', '/v1/kv/wild/2?ns=team-b', ROOT, 'b');
    const all = await call('GET', '/v1/kv/wild/?recurse&ns=*', ROOT);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.json.map((e: any) => [e.Namespace, e.Key]), [['default', 'wild/1'], ['team-a', 'wild/1'], ['team-b', 'wild/2']]);
    const keys = await call('GET', '/v1/kv/wild/?keys&ns=*', ROOT);
    assert.deepEqual(keys.json, ['wild/1', 'wild/1', 'wild/2']);
    const one = await call('GET', '/v1/kv/wild/1?ns=*', ROOT);
    assert.equal(one.status, 400);
    assert.match(one.text, /wildcard/);
    const onlyA = await call('GET', '/v1/kv/wild/?recurse&ns=team-a', ROOT);
    assert.deepEqual(onlyA.json.map((e: any) => e.Key), ['wild/1']);
    const put = await call('PUT', '/v1/kv/wild/3?ns=*', ROOT, 'x');
    assert.equal(put.status, 400);
  });

  test('a blocking ns=* read answers a namespace\'s purge with a higher index, without its keys', async () => {
    const c = { partition: 'default', namespace: 'team-c' };
    await dev.agent.store.txn({ success: [{ type: 'put', key: namespaceKey(c), value: encodeRecord({ Name: 'team-c' }) }] });
    await call('PUT', '/v1/kv/purge/1', ROOT, 'd');
    assert.equal((await call('PUT', '/v1/kv/purge/1?ns=team-c', ROOT, 'c')).text, 'true');
    const first = await call('GET', '/v1/kv/purge/?recurse&ns=*', ROOT);
    assert.deepEqual(first.json.map((e: any) => e.Namespace), ['default', 'team-c']);
    const index = Number(first.headers.get('x-consul-index'));
    const blocked = call('GET', `/v1/kv/purge/?recurse&ns=*&index=${index}&wait=2s`, ROOT);
    // The reaper's purge: the tenant prefix and the record in one txn.
    await dev.agent.store.txn({ success: [{ type: 'deletePrefix', prefix: 't/default/team-c/' }, { type: 'delete', key: namespaceKey(c) }] });
    const got = await blocked;
    assert.deepEqual(got.json.map((e: any) => e.Namespace), ['default']);
    assert.ok(Number(got.headers.get('x-consul-index')) > index, 'the index never goes back');
  });

  test('writes into a missing namespace are refused; reads of them find nothing', async () => {
    const missing = await call('PUT', '/v1/kv/x?ns=nope', ROOT, 'x');
    assert.equal(missing.status, 500);
    assert.equal(missing.text, 'Namespace "nope" does not exist');
    // A namespace marked for deletion (writableEnt's other refusal) is purged by the leader at once,
    // so it is not observable here; endpoint/tenancy.test.ts covers its text.
    assert.equal((await call('DELETE', '/v1/kv/x?ns=nope', ROOT)).status, 500);
    assert.equal((await call('GET', '/v1/kv/x?ns=nope', ROOT)).status, 404);
    assert.equal((await call('GET', '/v1/kv/x?ns=bad_name', ROOT)).status, 400);
  });

  test('a blocking read in one namespace answers only its own namespace\'s write', async () => {
    await call('PUT', '/v1/kv/block/k?ns=team-a', ROOT, 'a1');
    const first = await call('GET', '/v1/kv/block/k?ns=team-a', ROOT);
    const index = Number(first.headers.get('x-consul-index'));
    const blocked = call('GET', `/v1/kv/block/k?ns=team-a&index=${index}&wait=30s`, ROOT);
    // The same key in another namespace and in the default one: the read keeps waiting.
    await call('PUT', '/v1/kv/block/k?ns=team-b', ROOT, 'b');
    await call('PUT', '/v1/kv/block/k', ROOT, 'd');
    await call('PUT', '/v1/kv/block/k?ns=team-a', ROOT, 'a2');
    const got = await blocked;
    assert.equal(got.json[0].Value, b64('a2'));
    assert.ok(Number(got.headers.get('x-consul-index')) > index);
  });

  test('ACL: namespace blocks grant keys only inside their namespace', async () => {
    const tok = await tokenWithRules(call, 'namespace "team-a" { key_prefix "" { policy = "write" } }');
    assert.equal((await call('PUT', '/v1/kv/acl/k?ns=team-a', tok.SecretID, 'ok')).text, 'true');
    assert.equal((await call('GET', '/v1/kv/acl/k?ns=team-a&raw', tok.SecretID)).text, 'ok');
    const other = await call('PUT', '/v1/kv/acl/k?ns=team-b', tok.SecretID, 'no');
    assert.equal(other.status, 403);
    assert.equal((await call('PUT', '/v1/kv/acl/k', tok.SecretID, 'no')).status, 403);
    const pre = await tokenWithRules(call, 'namespace_prefix "team-" { key_prefix "acl/" { policy = "read" } }');
    assert.equal((await call('GET', '/v1/kv/acl/k?ns=team-a&raw', pre.SecretID)).text, 'ok');
    assert.equal((await call('PUT', '/v1/kv/acl/k?ns=team-a', pre.SecretID, 'no')).status, 403);
    // ns=* lists only what the token may read.
    await call('PUT', '/v1/kv/acl/k?ns=team-b', ROOT, 'b');
    await call('PUT', '/v1/kv/acl/k', ROOT, 'd');
    const listed = await call('GET', '/v1/kv/acl/?recurse&ns=*', tok.SecretID);
    assert.deepEqual(listed.json.map((e: any) => e.Namespace), ['team-a']);
  });

  test('sessions live in a namespace; locks need a session of the key\'s namespace; invalidation releases them', async () => {
    const node = dev.agent.config.nodeName;
    const sa = await call('PUT', '/v1/session/create?ns=team-a', ROOT, { Name: 'a', LockDelay: '0s' });
    assert.equal(sa.status, 200, sa.text);
    const sb = await call('PUT', '/v1/session/create', ROOT, { Name: 'b', Namespace: 'team-b', LockDelay: '0s' });
    assert.equal(sb.status, 200, sb.text);
    const sd = await call('PUT', '/v1/session/create', ROOT, { Name: 'd', LockDelay: '0s' });
    const [a, b, d] = [sa.json.ID, sb.json.ID, sd.json.ID];
    const missing = await call('PUT', '/v1/session/create?ns=nope', ROOT, {});
    assert.equal(missing.status, 500);
    assert.equal(missing.text, 'Namespace "nope" does not exist');

    const infoA = await call('GET', `/v1/session/info/${a}?ns=team-a`, ROOT);
    assert.deepEqual(infoA.json.map((x: any) => [x.ID, x.Namespace]), [[a, 'team-a']]);
    assert.deepEqual((await call('GET', `/v1/session/info/${a}`, ROOT)).json, []);
    assert.deepEqual((await call('GET', `/v1/session/info/${a}?ns=team-b`, ROOT)).json, []);
    const ids = (path: string) => call('GET', path, ROOT).then((r) => r.json.map((x: any) => x.ID).sort());
    assert.deepEqual(await ids('/v1/session/list'), [d]);
    assert.deepEqual(await ids('/v1/session/list?ns=team-b'), [b]);
    assert.deepEqual(await ids('/v1/session/list?ns=*'), [a, b, d].sort());
    assert.deepEqual(await ids(`/v1/session/node/${node}?ns=team-a`), [a]);
    assert.equal((await call('PUT', `/v1/session/renew/${a}`, ROOT)).status, 404);
    assert.equal((await call('PUT', `/v1/session/renew/${a}?ns=team-a`, ROOT)).status, 200);
    // A prepared query (default tenant) binds only a default-tenant session: team-a's purge would leave it dangling.
    const pq = await call('POST', '/v1/query', ROOT, { Name: 'ns-bound', Session: a, Service: { Service: 'web' } });
    assert.equal(pq.status, 500);
    assert.equal(pq.text, `invalid session "${a}"`);

    // A lock in team-a takes team-a's session only.
    const wrong = await call('PUT', `/v1/kv/lock/k?ns=team-a&acquire=${b}`, ROOT, 'x');
    assert.equal(wrong.status, 500);
    assert.equal(wrong.text, `invalid session "${b}"`);
    assert.equal((await call('PUT', `/v1/kv/lock/k?acquire=${a}`, ROOT, 'x')).status, 500);
    assert.equal((await call('PUT', `/v1/kv/lock/k?ns=team-a&acquire=${a}`, ROOT, 'held')).text, 'true');
    assert.equal((await call('PUT', `/v1/kv/lock/k?acquire=${d}`, ROOT, 'd')).text, 'true', 'the same key in default is another lock');
    const held = await call('GET', '/v1/kv/lock/k?ns=team-a', ROOT);
    assert.deepEqual([held.json[0].Session, held.json[0].LockIndex], [a, 1]);

    // Destroying the session from another namespace does nothing; from its own it releases the lock.
    assert.equal((await call('PUT', `/v1/session/destroy/${a}?ns=team-b`, ROOT)).text, 'true');
    assert.equal((await call('GET', '/v1/kv/lock/k?ns=team-a', ROOT)).json[0].Session, a);
    assert.equal((await call('PUT', `/v1/session/destroy/${a}?ns=team-a`, ROOT)).text, 'true');
    const released = await call('GET', '/v1/kv/lock/k?ns=team-a', ROOT);
    assert.equal(released.json[0].Session, undefined);
    assert.equal((await call('GET', '/v1/kv/lock/k', ROOT)).json[0].Session, d, 'the default key stays locked');
    assert.equal((await call('PUT', `/v1/session/destroy/${d}`, ROOT)).text, 'true');
  });

  test('a transaction mixes namespaces: each KV op in its own Namespace', async () => {
    const res = await call('PUT', '/v1/txn', ROOT, [
      { KV: { Verb: 'set', Key: 'txn/k', Value: b64('d') } },
      { KV: { Verb: 'set', Key: 'txn/k', Value: b64('a'), Namespace: 'team-a' } },
      { KV: { Verb: 'set', Key: 'txn/k', Value: b64('b'), Namespace: 'team-b', Partition: 'default' } },
      { KV: { Verb: 'get-tree', Key: 'txn/', Namespace: 'team-a' } },
    ]);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.Results.map((r: any) => [r.KV.Key, r.KV.Namespace, r.KV.Value]),
      [['txn/k', undefined, null], ['txn/k', 'team-a', null], ['txn/k', 'team-b', null], ['txn/k', 'team-a', b64('a')]]);
    assert.equal((await call('GET', '/v1/kv/txn/k?raw', ROOT)).text, 'd');
    assert.equal((await call('GET', '/v1/kv/txn/k?ns=team-a&raw', ROOT)).text, 'a');
    assert.equal((await call('GET', '/v1/kv/txn/k?ns=team-b&raw', ROOT)).text, 'b');

    // delete-tree in one namespace leaves the same prefix elsewhere; reads see the tree gone in that namespace only.
    const del = await call('PUT', '/v1/txn', ROOT, [
      { KV: { Verb: 'delete-tree', Key: 'txn/', Namespace: 'team-b' } },
      { KV: { Verb: 'get', Key: 'txn/k' } },
      { KV: { Verb: 'check-not-exists', Key: 'txn/k', Namespace: 'team-b' } },
    ]);
    assert.equal(del.status, 200, del.text);
    assert.equal((await call('GET', '/v1/kv/txn/k?ns=team-b', ROOT)).status, 404);
    assert.equal((await call('GET', '/v1/kv/txn/k?ns=team-a', ROOT)).status, 200);

    // A write into a missing namespace fails the transaction with Consul's text; nothing is written.
    const bad = await call('PUT', '/v1/txn', ROOT, [
      { KV: { Verb: 'set', Key: 'txn/x', Value: b64('x') } },
      { KV: { Verb: 'set', Key: 'txn/x', Value: b64('x'), Namespace: 'nope' } },
    ]);
    assert.equal(bad.status, 409);
    assert.deepEqual(bad.json.Errors, [{ OpIndex: 1, What: 'Namespace "nope" does not exist' }]);
    assert.equal((await call('GET', '/v1/kv/txn/x', ROOT)).status, 404);
    assert.equal((await call('PUT', '/v1/txn', ROOT, [{ KV: { Verb: 'get', Key: 'k', Namespace: '*' } }])).status, 400);

    // A lock op in team-a takes a team-a session; ACL namespace rules apply per op.
    const s = (await call('PUT', '/v1/session/create?ns=team-a', ROOT, { LockDelay: '0s' })).json.ID;
    const lock = await call('PUT', '/v1/txn', ROOT, [{ KV: { Verb: 'lock', Key: 'txn/lock', Session: s, Value: b64('l'), Namespace: 'team-a' } }]);
    assert.equal(lock.status, 200, lock.text);
    assert.equal((await call('GET', '/v1/kv/txn/lock?ns=team-a', ROOT)).json[0].Session, s);
    const wrongNs = await call('PUT', '/v1/txn', ROOT, [{ KV: { Verb: 'lock', Key: 'txn/lock2', Session: s, Value: b64('l') } }]);
    assert.equal(wrongNs.status, 409);
    assert.deepEqual(wrongNs.json.Errors, [{ OpIndex: 0, What: `invalid session "${s}"` }]);
    // A Session op acts in the request's tenant (default here): team-a's session is not found, its lock stays.
    const foreign = await call('PUT', '/v1/txn', ROOT, [{ Session: { Verb: 'delete', Session: { ID: s } } }]);
    assert.equal(foreign.status, 200, foreign.text);
    assert.deepEqual((await call('GET', `/v1/session/info/${s}?ns=team-a`, ROOT)).json.map((x: any) => x.ID), [s]);
    assert.equal((await call('GET', '/v1/kv/txn/lock?ns=team-a', ROOT)).json[0].Session, s);
    await call('PUT', `/v1/session/destroy/${s}?ns=team-a`, ROOT);
    assert.equal((await call('GET', '/v1/kv/txn/lock?ns=team-a', ROOT)).json[0].Session, undefined);

    const tok = await tokenWithRules(call, 'namespace "team-a" { key_prefix "txn/" { policy = "write" } }');
    const ok = await call('PUT', '/v1/txn', tok.SecretID, [{ KV: { Verb: 'set', Key: 'txn/t', Value: b64('t'), Namespace: 'team-a' } }]);
    assert.equal(ok.status, 200, ok.text);
    const denied = await call('PUT', '/v1/txn', tok.SecretID, [{ KV: { Verb: 'set', Key: 'txn/t', Value: b64('t') } }]);
    assert.equal(denied.status, 409);
    assert.match(denied.json.Errors[0].What, /Permission denied/);
    const read = await call('PUT', '/v1/txn', tok.SecretID, [
      { KV: { Verb: 'get', Key: 'txn/t', Namespace: 'team-a' } },
      { KV: { Verb: 'get', Key: 'txn/k' } },
    ]);
    assert.deepEqual(read.json.Results.map((r: any) => r.KV.Namespace), ['team-a'], 'the default-namespace read is filtered out');
  });

  test('kv commands: -namespace, -partition and CONSUL_NAMESPACE (the flag wins)', async () => {
    const cli = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      const io = memoryIO({ env: { CONSUL_HTTP_ADDR: dev.httpAddr, CONSUL_HTTP_TOKEN: ROOT, ...env } });
      const code = await runCli(argv, io);
      return { code, out: io.out, err: io.err };
    };
    assert.deepEqual(await cli(['kv', 'put', '-namespace', 'team-a', 'cli/k', 'va']), { code: 0, out: 'Success! Data written to: cli/k\n', err: '' });
    assert.deepEqual(await cli(['kv', 'get', 'cli/k'], { CONSUL_NAMESPACE: 'team-a' }), { code: 0, out: 'va\n', err: '' });
    assert.deepEqual(await cli(['kv', 'get', 'cli/k']), { code: 1, out: '', err: 'Error! No key exists at: cli/k\n' });
    assert.deepEqual(await cli(['kv', 'get', '-namespace=team-a', 'cli/k'], { CONSUL_NAMESPACE: 'team-b' }), { code: 0, out: 'va\n', err: '' });
    assert.equal((await cli(['kv', 'get', '-partition=default', '-namespace=team-a', 'cli/k'])).out, 'va\n');
    const detailed = await cli(['kv', 'get', '-detailed', '-namespace', 'team-a', 'cli/k']);
    assert.match(detailed.out, /^Session {10}-\nPartition {8}default\nNamespace {8}team-a\nValue {12}va\n$/m);
    assert.ok(!(await cli(['kv', 'get', '-detailed', 'golden-none'], {})).out.includes('Namespace'));
    const exported = await cli(['kv', 'export', '-namespace', 'team-a', 'cli/']);
    assert.equal(JSON.parse(exported.out)[0].namespace, 'team-a');
    assert.deepEqual(await cli(['kv', 'delete', '-namespace', 'team-a', 'cli/k']), { code: 0, out: 'Success! Deleted key: cli/k\n', err: '' });
    assert.equal((await cli(['kv', 'get', 'cli/k'], { CONSUL_NAMESPACE: 'team-a' })).code, 1);
    const refused = await cli(['kv', 'put', '-namespace', 'nope', 'cli/k', 'v']);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /Namespace "nope" does not exist/);
  });

  test('lock-delay after an invalidation holds the key in its namespace only; unknown partitions are refused', async () => {
    const mk = async (ns: string) => (await call('PUT', `/v1/session/create?ns=${ns}`, ROOT, { LockDelay: '60s' })).json.ID as string;
    const s1 = await mk('team-a');
    assert.equal((await call('PUT', `/v1/kv/delay/k?ns=team-a&acquire=${s1}`, ROOT, 'x')).text, 'true');
    assert.equal((await call('PUT', `/v1/session/destroy/${s1}?ns=team-a`, ROOT)).text, 'true');
    const s2 = await mk('team-a');
    assert.equal((await call('PUT', `/v1/kv/delay/k?ns=team-a&acquire=${s2}`, ROOT, 'y')).text, 'false', 'team-a\'s key is in its lock-delay');
    const s3 = await mk('team-b');
    assert.equal((await call('PUT', `/v1/kv/delay/k?ns=team-b&acquire=${s3}`, ROOT, 'z')).text, 'true', 'the same key in team-b is not delayed');
    const sd = (await call('PUT', '/v1/session/create', ROOT, { LockDelay: '60s' })).json.ID;
    assert.equal((await call('PUT', `/v1/kv/delay/k?acquire=${sd}`, ROOT, 'd')).text, 'true', 'nor in the default namespace');

    const ap = await call('PUT', '/v1/kv/x?partition=nowhere', ROOT, 'x');
    assert.deepEqual([ap.status, ap.text], [500, 'Partition "nowhere" does not exist']);
    assert.equal((await call('GET', '/v1/kv/delay/?recurse&partition=nowhere&ns=*', ROOT)).status, 404);
  });

  test('a namespaced session, its lock guard and its namespace sit under the tenant prefix; a replica with no t/ handler does not see them', async () => {
    const created = await call('PUT', '/v1/session/create?ns=TEAM-A', ROOT, { Name: 'keyed', LockDelay: '0s' });
    assert.equal(created.status, 200, created.text);
    const id = created.json.ID as string;
    assert.equal((await call('PUT', `/v1/kv/keyed/k?ns=team-a&acquire=${id}`, ROOT, 'x')).text, 'true');
    const kvs = (await dev.agent.store.range('')).kvs;
    assert.deepEqual(kvs.map((kv) => kv.key).filter((k) => k.includes(id)).sort(),
      [`t/default/team-a/session/${id}`, `t/default/team-a/sessionlocks/${id}`]);
    const stored = JSON.parse(Buffer.from(kvs.find((kv) => kv.key === `t/default/team-a/session/${id}`)!.value).toString());
    assert.equal(stored.Namespace, 'team-a', 'stored lower-cased');
    const info = await call('GET', `/v1/session/info/${id}?ns=Team-A`, ROOT);
    assert.deepEqual(info.json.map((x: any) => [x.ID, x.Namespace, x.Partition]), [[id, 'team-a', undefined]]);
    assert.deepEqual((await call('GET', `/v1/session/info/${id}`, ROOT)).json, [], 'not a default session');

    // An older version: its sessions table takes session/ keys, and nothing routes t/ (no handler).
    const old = new SessionsTable();
    const oldTenants = new TenantTables();
    for (const kv of kvs) {
      if (kv.key.startsWith(old.prefix)) old.apply({ type: 'put', kv });
      else if (kv.key.startsWith('t/')) oldTenants.apply({ type: 'put', kv }, []);
    }
    assert.equal(old.get(id), undefined, 'an older replica has no such session, so it cannot lock default keys');
    assert.ok(old.list().every((x) => x.Namespace === 'default' && x.Partition === undefined));
    assert.ok(oldTenants.ignored >= 2, 'the tenant session and its guard are ignored');
    assert.equal((await call('PUT', `/v1/kv/keyed/k?acquire=${id}`, ROOT, 'y')).text, `invalid session "${id}"`, 'nor can it here');
    assert.equal((await call('PUT', `/v1/session/destroy/${id}?ns=team-a`, ROOT)).text, 'true');
    assert.deepEqual((await dev.agent.store.range('')).kvs.map((kv) => kv.key).filter((k) => k.includes(id)), []);
    assert.equal((await call('GET', '/v1/kv/keyed/k?ns=team-a', ROOT)).json[0].Session, undefined);
  });

  test('TTL expiry (the leader\'s destroy, no request tenant) invalidates a namespaced session and releases its lock', async () => {
    const s = (await call('PUT', '/v1/session/create?ns=team-b', ROOT, { TTL: '30s', LockDelay: '0s' })).json.ID as string;
    assert.equal((await call('PUT', `/v1/kv/ttl/k?ns=team-b&acquire=${s}`, ROOT, 'x')).text, 'true');
    await dev.agent.endpoints.session.destroy(s);
    assert.deepEqual((await call('GET', `/v1/session/info/${s}?ns=team-b`, ROOT)).json, []);
    assert.equal((await call('GET', '/v1/kv/ttl/k?ns=team-b', ROOT)).json[0].Session, undefined);
  });

  test('deleting a namespace purges its keys and its sessions, and nothing of another namespace', async () => {
    assert.equal((await call('PUT', '/v1/namespace', ROOT, { Name: 'team-c' })).status, 200);
    assert.equal((await call('PUT', '/v1/kv/purge/k?ns=team-c', ROOT, 'c')).text, 'true');
    const s = (await call('PUT', '/v1/session/create?ns=team-c', ROOT, { LockDelay: '0s' })).json.ID as string;
    assert.equal((await call('PUT', `/v1/kv/purge/lock?ns=team-c&acquire=${s}`, ROOT, 'l')).text, 'true');
    await call('PUT', '/v1/kv/purge/k?ns=team-a', ROOT, 'a');
    assert.equal((await call('DELETE', '/v1/namespace/team-c', ROOT)).status, 200);
    for (let i = 0; i < 200 && (await call('GET', '/v1/namespace/team-c', ROOT)).status !== 404; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal((await call('GET', '/v1/namespace/team-c', ROOT)).status, 404, 'the reaper finished');
    const keys = (await dev.agent.store.range('')).kvs.map((kv) => kv.key);
    assert.deepEqual(keys.filter((k) => k.includes(s) || k.startsWith('t/default/team-c/')), []);
    assert.ok(!(await call('GET', '/v1/session/list?ns=*', ROOT)).json.some((x: any) => x.ID === s));
    assert.equal((await call('GET', '/v1/kv/purge/k?ns=team-a&raw', ROOT)).text, 'a');
  });

  test('a check going critical invalidates a namespaced session tied to it and releases its lock (lock-delay in its namespace)', async () => {
    const node = dev.agent.config.nodeName;
    const reg = (Status: string) => call('PUT', '/v1/catalog/register', ROOT, {
      Node: node, Address: '127.0.0.1', SkipNodeUpdate: true, Check: { CheckID: 'ns-guard', Name: 'ns-guard', Status },
    });
    assert.equal((await reg('passing')).status, 200);
    const s = (await call('PUT', '/v1/session/create?ns=team-b', ROOT, { NodeChecks: ['serfHealth', 'ns-guard'], LockDelay: '60s' })).json.ID as string;
    assert.equal((await call('PUT', `/v1/kv/crit/k?ns=team-b&acquire=${s}`, ROOT, 'x')).text, 'true');
    assert.equal((await reg('critical')).status, 200);
    assert.deepEqual((await call('GET', `/v1/session/info/${s}?ns=team-b`, ROOT)).json, []);
    assert.equal((await call('GET', '/v1/kv/crit/k?ns=team-b', ROOT)).json[0].Session, undefined);
    const keys = (await dev.agent.store.range('')).kvs.map((kv) => kv.key);
    assert.deepEqual(keys.filter((k) => k.includes(s)), [], 'session and lock guard deleted under the tenant prefix');
    // The lock-delay holds the key in team-b only.
    const s2 = (await call('PUT', '/v1/session/create?ns=team-b', ROOT, { LockDelay: '0s' })).json.ID as string;
    assert.equal((await call('PUT', `/v1/kv/crit/k?ns=team-b&acquire=${s2}`, ROOT, 'y')).text, 'false');
    const d = (await call('PUT', '/v1/session/create', ROOT, { LockDelay: '0s' })).json.ID as string;
    assert.equal((await call('PUT', `/v1/kv/crit/k?acquire=${d}`, ROOT, 'y')).text, 'true');
    assert.equal((await reg('passing')).status, 200);
  });
});
