// One replication round at a time against a fake primary (its list and read answers), on a
// memory store and replica: what lands, what is deleted, what is left alone, and the status.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { soloLeadership, putOp, type EndpointDeps } from '../endpoint/index.ts';
import { silentLogger } from '../log.ts';
import { Replica } from '../state/index.ts';
import { MemoryStore } from '../store/index.ts';
import { AclTokenReaper } from './acl.ts';
import { AclReplication, type PrimaryAnswer } from './acl-replication.ts';

type Rec = Record<string, unknown>;

async function setup(tokenReplication = true, hang = false) {
  const clock = new ManualClock(Date.UTC(2026, 0, 2, 3, 4, 5, 600));
  const store = new MemoryStore({ clock });
  await store.open();
  const logger = silentLogger();
  const replica = new Replica({ store, clock, logger });
  await replica.start();
  const deps: EndpointDeps = {
    store, replica, clock, logger, leadership: soloLeadership('127.0.0.1:8300'), random: Math.random,
    config: { datacenter: 'dc2', nodeName: 'n1', kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, defaultQueryTime: 300_000, maxQueryTime: 600_000, sessionTtlMin: 10_000 },
  };
  const primary = { policies: [] as Rec[], roles: [] as Rec[], tokens: [] as Rec[], index: 10, asked: [] as string[] };
  const json = (v: unknown, index = primary.index): PrimaryAnswer => ({ status: 200, headers: { 'X-Consul-Index': String(index) }, body: Buffer.from(JSON.stringify(v)) });
  const get = async (path: string, token: string, signal: AbortSignal): Promise<PrimaryAnswer> => {
    primary.asked.push(`${path} ${token}`);
    // A primary gone without closing the connection: nothing comes back until the caller gives up.
    if (hang) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    const p = path.split('?')[0];
    if (p === '/v1/acl/policies') return json(primary.policies.map(({ Rules: _r, ...stub }) => stub));
    if (p === '/v1/acl/roles') return json(primary.roles);
    if (p === '/v1/acl/tokens') return json(primary.tokens);
    const pol = primary.policies.find((x) => p === `/v1/acl/policy/${x.ID}`);
    return pol ? json(pol) : { status: 403, headers: {}, body: Buffer.from('ACL not found') };
  };
  const repl = new AclReplication({ epDeps: deps, primary: 'dc1', tokenReplication, enabled: () => true, token: () => 'repl-token', get, waitMs: 10_000 });
  const put = (key: string, rec: Rec) => store.txn({ success: [putOp(key, rec)] }).then((r) => replica.waitFor(r.revision));
  return { clock, store, replica, primary, repl, put, deps, stop: () => { repl.stop(); replica.stop(); } };
}

test('policies arrive in full, changed ones are rewritten, and those gone from the primary are deleted', async () => {
  const s = await setup();
  try {
    s.primary.policies = [{ ID: 'p1', Name: 'one', Rules: 'node_prefix "" { policy = "read" }', Hash: 'h1', CreateIndex: 3, ModifyIndex: 4 }];
    await s.repl.replicateOnce('policies');
    assert.equal(s.replica.acl.policies.get('p1')?.Rules, 'node_prefix "" { policy = "read" }');
    assert.equal(s.replica.acl.policies.by('ONE')?.ID, 'p1', 'the name index follows');
    assert.ok(s.primary.asked.every((a) => a.endsWith(' repl-token')), 'under the replication token');
    assert.match(s.primary.asked[0], /^\/v1\/acl\/policies\?dc=dc1&stale=&index=0&wait=10s&ns=\* /);

    s.primary.policies = [{ ID: 'p1', Name: 'renamed', Rules: '', Hash: 'h2' }, { ID: 'p2', Name: 'two', Rules: '', Hash: 'h3' }];
    s.primary.index = 12;
    await s.repl.replicateOnce('policies');
    assert.deepEqual(s.replica.acl.policies.sorted().map((p) => [p.ID, p.Name]), [['p1', 'renamed'], ['p2', 'two']]);
    assert.equal(s.repl.status().ReplicatedIndex, 12);

    s.primary.policies = [];
    await s.repl.replicateOnce('policies');
    assert.deepEqual(s.replica.acl.policies.all(), []);
    // Go's time, rounded to the second.
    assert.equal(s.repl.status().LastSuccess, '2026-01-02T03:04:06Z');
  } finally {
    s.stop();
  }
});

test('token replication touches global tokens only: local ones stay, whatever the primary lists', async () => {
  const s = await setup();
  try {
    await s.put('acl/token/local-1', { AccessorID: 'local-1', SecretID: 'ls', Local: true, Hash: 'x' });
    await s.put('acl/token/old-global', { AccessorID: 'old-global', SecretID: 'os', Local: false, Hash: 'y' });
    s.primary.tokens = [
      { AccessorID: 'g1', SecretID: 'gs', Local: false, Hash: 'g', Policies: [{ ID: 'p1', Name: 'one' }], CreateIndex: 5, ModifyIndex: 5 },
      { AccessorID: 'primary-local', SecretID: 'ps', Local: true, Hash: 'l' },
    ];
    await s.repl.replicateOnce('tokens');
    assert.deepEqual(s.replica.acl.tokens.sorted().map((t) => t.AccessorID), ['g1', 'local-1']);
    assert.deepEqual(s.replica.acl.tokens.get('g1')?.Policies, [{ ID: 'p1' }], 'link names are not stored');
    assert.equal(s.replica.acl.tokens.by('gs')?.AccessorID, 'g1');
    assert.equal(s.repl.status().ReplicatedTokenIndex, 10);
  } finally {
    s.stop();
  }
});

test('redacted secrets stop the round with Consul\'s error', async () => {
  const s = await setup();
  try {
    s.primary.tokens = [{ AccessorID: 'g1', SecretID: '<hidden>', Local: false, Hash: 'g' }];
    await assert.rejects(s.repl.replicateOnce('tokens'), /failed to retrieve unredacted tokens - replication token in use does not grant acl:write/);
    assert.equal(s.replica.acl.tokens.get('g1'), undefined);
  } finally {
    s.stop();
  }
});

test('status: enabled in a secondary, the replication type follows token replication', async () => {
  const s = await setup(false);
  try {
    const st = s.repl.status();
    assert.deepEqual([st.Enabled, st.Running, st.SourceDatacenter, st.ReplicationType, st.LastSuccess], [true, false, 'dc1', 'policies', '0001-01-01T00:00:00Z']);
  } finally {
    s.stop();
  }
});

const flush = async () => { for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r)); };

test('a read the primary never answers is given up after its wait, the jitter and rpc_client_timeout', async () => {
  const s = await setup(true, true);
  try {
    const round = s.repl.replicateOnce('policies');
    await flush();
    s.clock.advance(10_000 + 625 + 59_000);
    await flush();
    let settled = false;
    void round.catch(() => { settled = true; });
    await flush();
    assert.equal(settled, false, 'still waiting before the limit');
    s.clock.advance(1_000);
    await assert.rejects(round, /rpc error: timeout after 71s/);
  } finally {
    s.stop();
  }
});

test('rounds are rate limited as Consul\'s (burst 5, then one a second) when the primary answers at once', async () => {
  const s = await setup(false);
  try {
    await s.repl.start();
    await flush();
    const count = () => s.primary.asked.filter((a) => a.startsWith('/v1/acl/policies?')).length;
    assert.equal(count(), 6, 'the first round and a burst of 5');
    s.clock.advance(1000);
    await flush();
    assert.equal(count(), 7);
    s.clock.advance(3000);
    await flush();
    assert.equal(count(), 10);
    assert.equal(s.repl.status().Running, true);
  } finally {
    s.stop();
  }
});

test('leadership taken again starts from index 0 (what another leader or a restore did meanwhile is not waited on)', async () => {
  const s = await setup(false);
  try {
    s.primary.index = 40;
    await s.repl.replicateOnce('policies');
    await s.repl.start();
    await flush();
    s.repl.stop();
    s.primary.asked = [];
    await s.repl.start();
    await flush();
    const first = s.primary.asked.find((a) => a.startsWith('/v1/acl/policies?'));
    assert.match(first ?? '', /&index=0&/);
  } finally {
    s.stop();
  }
});

test("a secondary's reaper deletes its expired local tokens only; expired global ones are the primary's to delete", async () => {
  const s = await setup();
  try {
    const expired = new Date(s.clock.now() - 1000).toISOString();
    for (const [id, local] of [['g1', false], ['l1', true]] as const) {
      await s.put(`acl/token/${id}`, { AccessorID: id, SecretID: `s-${id}`, Description: '', Local: local, CreateTime: '', Hash: id, ExpirationTime: expired });
    }
    assert.equal(await new AclTokenReaper(s.deps, { localOnly: true }).reap(), 1);
    assert.deepEqual(s.replica.acl.tokens.all().map((t) => t.AccessorID), ['g1']);
  } finally {
    s.stop();
  }
});

test('namespaced policies, roles and tokens land under their namespace prefix; other partitions are not replicated', async () => {
  const s = await setup();
  try {
    const ns = { Namespace: 'team-a', Partition: 'default' };
    s.primary.policies = [
      { ID: 'p1', Name: 'same', Rules: '', Hash: 'h1', Namespace: 'default', Partition: 'default' },
      { ID: 'p2', Name: 'same', Rules: 'key_prefix "" { policy = "read" }', Hash: 'h2', ...ns },
      { ID: 'p3', Name: 'elsewhere', Rules: '', Hash: 'h3', Namespace: 'default', Partition: 'ap1' },
    ];
    s.primary.roles = [{ ID: 'r1', Name: 'role', Policies: [{ ID: 'p2', Name: 'same' }], Hash: 'hr', ...ns }];
    s.primary.tokens = [{ AccessorID: 'g1', SecretID: 's1', Policies: [{ ID: 'p2' }], Local: false, Hash: 'ht', ...ns }];
    // The primary's single read of a namespaced policy needs its namespace.
    const reads: string[] = [];
    const asked = s.primary.asked;
    await s.repl.replicateOnce('policies');
    reads.push(...asked.filter((a) => a.startsWith('/v1/acl/policy/')));
    await s.repl.replicateOnce('roles');
    await s.repl.replicateOnce('tokens');
    const keys = (await s.store.range('')).kvs.map((kv) => kv.key).filter((k) => k.includes('acl/'));
    assert.ok(keys.includes('acl/policy/p1'));
    assert.ok(keys.includes('t/default/team-a/acl/policy/p2'));
    assert.ok(keys.includes('t/default/team-a/acl/role/r1'));
    assert.ok(keys.includes('t/default/team-a/acl/token/g1'));
    assert.ok(!keys.some((k) => k.endsWith('/p3')), 'a non-default partition is not replicated');
    assert.ok(reads.some((a) => a.startsWith('/v1/acl/policy/p2?dc=dc1&stale=&ns=team-a ')), reads.join('\n'));
    assert.equal(s.replica.acl.policies.by('same', { partition: 'default', namespace: 'team-a' })?.ID, 'p2');
    assert.equal(s.replica.acl.policies.by('same')?.ID, 'p1');
    assert.equal(s.replica.acl.tokens.get('g1')?.Namespace, 'team-a');
    const stored = (await s.store.range('t/default/team-a/acl/token/g1')).kvs[0];
    assert.ok(!JSON.parse(Buffer.from(stored.value).toString()).Namespace, 'the tenancy fields are not stored');

    // Gone from the primary: deleted under its prefix.
    s.primary.tokens = [];
    s.primary.index = 20;
    await s.repl.replicateOnce('tokens');
    assert.equal(s.replica.acl.tokens.get('g1'), undefined);
  } finally {
    s.stop();
  }
});
