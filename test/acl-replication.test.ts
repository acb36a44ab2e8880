// ACL replication between datacenters of real processes: dc1 (127.0.0.21) is the primary with ACLs
// on (default deny) and an initial management token; dc2 (127.0.0.22, acl.enable_token_replication)
// and dc3 (127.0.0.23, token replication off) join it over the WAN with that token as their
// replication token. Policies, roles and global tokens made in dc1 work in dc2; a local token of
// dc2 stays there; deletes propagate; a policy written to dc2 lands in dc1; dc3 resolves tokens in
// the primary (for its client agent too); /v1/acl/replication shows each datacenter's figures; with
// the primary down, down_policy answers and replication resumes once it is back. dc4 (127.0.0.25)
// starts without a replication token and resolves policies in the primary until it has some.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { before, test } from 'node:test';
import { call, DcProcs, get, type Proc } from './support/dc-procs.ts';
import { until } from './support/wait.ts';

const MGMT = '4a7b0c9e-1f2d-4c3b-9a8e-7d6c5b4a3f21';
const dcs = new DcProcs('acl-repl');
const procs = dcs.procs;
const POLL = dcs.poll;

/** A request to `p` with `token`. */
const as = (p: Proc, token: string, method: string, path: string, body?: unknown) =>
  call(p, method, `${path}${path.includes('?') ? '&' : '?'}token=${token}`, body);

before(async () => {
  const acl = { enabled: true, default_policy: 'deny', down_policy: 'extend-cache' };
  const dc1 = await dcs.add('s1', 'dc1', '127.0.0.21', { primary_datacenter: 'dc1', acl: { ...acl, tokens: { initial_management: MGMT } } });
  const dc2 = await dcs.add('s2', 'dc2', '127.0.0.22', {
    primary_datacenter: 'dc1', acl: { ...acl, enable_token_replication: true, tokens: { replication: MGMT } },
  });
  // A short token_ttl: after the primary goes away, dc3 asks again and down_policy decides.
  const dc3 = await dcs.add('s3', 'dc3', '127.0.0.23', { primary_datacenter: 'dc1', acl: { ...acl, token_ttl: '1s', tokens: { replication: MGMT } } });
  // No replication token at start: it is set through the API with a token only the primary holds.
  const dc4 = await dcs.add('s4', 'dc4', '127.0.0.25', { primary_datacenter: 'dc1', acl });
  dcs.launchServer(dc1);
  for (const p of [dc2, dc3, dc4]) dcs.launchServer(p, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  for (const p of procs) {
    await until(`${p.node} to list every WAN member alive`, 30_000, async () => {
      const ms = await get<{ Status: number }[]>(p, `/v1/agent/members?wan=1&token=${MGMT}`);
      return ms?.length === 4 && ms.every((m) => m.Status === 1);
    }, POLL);
  }
});

test('a policy, role and global token made in dc1 are replicated to dc2 and authorize there; deletes follow', async () => {
  const [dc1, dc2] = procs;
  const policy = (await as(dc1, MGMT, 'PUT', '/v1/acl/policy', { Name: 'app-write', Rules: 'key_prefix "app/" { policy = "write" }' })).json;
  const role = (await as(dc1, MGMT, 'PUT', '/v1/acl/role', { Name: 'app', Policies: [{ ID: policy.ID }] })).json;
  const token = (await as(dc1, MGMT, 'PUT', '/v1/acl/token', { Description: 'global', Roles: [{ ID: role.ID }] })).json;
  assert.equal(token.Local, false);
  for (const [what, path] of [['policy', `/v1/acl/policy/${policy.ID}`], ['role', `/v1/acl/role/${role.ID}`], ['token', `/v1/acl/token/${token.AccessorID}`]]) {
    await until(`the ${what} replicated to dc2`, 20_000, async () => (await as(dc2, MGMT, 'GET', path)).status === 200, POLL);
  }
  const replicated = (await as(dc2, MGMT, 'GET', `/v1/acl/token/${token.AccessorID}`)).json;
  assert.equal(replicated.SecretID, token.SecretID);
  assert.deepEqual(replicated.Roles, [{ ID: role.ID, Name: 'app' }]);
  assert.equal((await as(dc2, token.SecretID, 'PUT', '/v1/kv/app/x', 'v')).text.trim(), 'true');
  assert.equal((await as(dc2, token.SecretID, 'PUT', '/v1/kv/other', 'v')).status, 403);

  const del = await as(dc1, MGMT, 'DELETE', `/v1/acl/policy/${policy.ID}`);
  assert.equal(del.status, 200, del.text);
  await until('the deleted policy gone from dc2', 20_000, async () => (await as(dc2, MGMT, 'GET', `/v1/acl/policy/${policy.ID}`)).status !== 200, POLL);
  // The role still links nothing that grants: the write is refused now.
  await until('the token no longer writes app/ in dc2', 10_000, async () => (await as(dc2, token.SecretID, 'PUT', '/v1/kv/app/y', 'v')).status === 403, POLL);
});

test('a namespaced policy and token made in dc1 are replicated into their namespace in dc2 and authorize there', async () => {
  const [dc1, dc2] = procs;
  assert.equal((await as(dc1, MGMT, 'PUT', '/v1/namespace', { Name: 'team-r' })).status, 200);
  const policy = await as(dc1, MGMT, 'PUT', '/v1/acl/policy?ns=team-r', { Name: 'reader', Rules: 'key_prefix "" { policy = "read" }' });
  assert.equal(policy.status, 200, policy.text);
  const token = (await as(dc1, MGMT, 'PUT', '/v1/acl/token?ns=team-r', { Policies: [{ Name: 'reader' }] })).json;
  assert.equal(token.Namespace, 'team-r');
  await until('the namespaced token replicated to dc2', 20_000,
    async () => (await as(dc2, MGMT, 'GET', `/v1/acl/token/${token.AccessorID}?ns=team-r`)).status === 200, POLL);
  const there = (await as(dc2, MGMT, 'GET', `/v1/acl/policy/name/reader?ns=team-r`)).json;
  assert.deepEqual([there.ID, there.Namespace], [policy.json.ID, 'team-r']);
  // Its rules apply in its namespace (the request's, from the token) and not in the default one.
  assert.equal((await as(dc2, token.SecretID, 'GET', '/v1/kv/missing')).status, 404);
  assert.equal((await as(dc2, token.SecretID, 'GET', '/v1/kv/missing?ns=default')).status, 403);
});

test('a local token made in dc2 stays in dc2; a policy written to dc2 is written in dc1', async () => {
  const [dc1, dc2] = procs;
  const created = await as(dc2, MGMT, 'PUT', '/v1/acl/policy', { Name: 'from-dc2', Rules: 'key_prefix "dc2/" { policy = "write" }' });
  assert.equal(created.status, 200, created.text);
  const inDc1 = await as(dc1, MGMT, 'GET', `/v1/acl/policy/${created.json.ID}`);
  assert.equal(inDc1.status, 200, 'the write was made in the primary');
  assert.equal(inDc1.json.Name, 'from-dc2');
  await until('the policy replicated back to dc2', 20_000, async () => (await as(dc2, MGMT, 'GET', `/v1/acl/policy/${created.json.ID}`)).status === 200, POLL);

  const local = await as(dc2, MGMT, 'PUT', '/v1/acl/token', { Description: 'dc2 only', Local: true, Policies: [{ ID: created.json.ID }] });
  assert.equal(local.status, 200, local.text);
  assert.equal(local.json.Local, true);
  assert.equal((await as(dc1, MGMT, 'GET', `/v1/acl/token/${local.json.AccessorID}`)).status, 403, 'ACL not found in dc1');
  assert.equal((await as(dc2, local.json.SecretID, 'PUT', '/v1/kv/dc2/k', 'v')).text.trim(), 'true');
  // Replication rounds leave it alone (a later round sees it still there).
  await as(dc1, MGMT, 'PUT', '/v1/acl/token', { Description: 'bump the token index' });
  await until('dc2 to replicate the new token', 20_000, async () => {
    const list = (await as(dc2, MGMT, 'GET', '/v1/acl/tokens')).json as { Description: string }[];
    return list.some((t) => t.Description === 'bump the token index');
  }, POLL);
  assert.equal((await as(dc2, MGMT, 'GET', `/v1/acl/token/${local.json.AccessorID}`)).status, 200);
  assert.equal((await as(dc2, MGMT, 'PUT', '/v1/acl/bootstrap')).text.trim(), 'ACL support disabled');
  // Auth methods are each datacenter's own; only the primary's may issue global tokens.
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const method = (TokenLocality: string) => ({
    Name: `m-${TokenLocality}`, Type: 'jwt', TokenLocality, Config: { JWTValidationPubKeys: [publicKey.export({ type: 'spki', format: 'pem' })] },
  });
  const global2 = await as(dc2, MGMT, 'PUT', '/v1/acl/auth-method', method('global'));
  assert.deepEqual([global2.status, global2.text.trim()], [400, "Invalid Auth Method: TokenLocality 'global' can only be used in the primary datacenter"]);
  assert.equal((await as(dc2, MGMT, 'PUT', '/v1/acl/auth-method', method('local'))).status, 200);
  assert.equal((await as(dc1, MGMT, 'GET', '/v1/acl/auth-method/m-local')).status, 404, 'not in dc1');
});

test('without token replication, dc3 resolves tokens in the primary and has no local tokens', async () => {
  const [dc1, , dc3] = procs;
  const policy = (await as(dc1, MGMT, 'PUT', '/v1/acl/policy', { Name: 'dc3-read', Rules: 'key_prefix "" { policy = "read" }' })).json;
  await until('the policy replicated to dc3', 20_000, async () => (await as(dc3, MGMT, 'GET', `/v1/acl/policy/${policy.ID}`)).status === 200, POLL);
  const token = (await as(dc1, MGMT, 'PUT', '/v1/acl/token', { Description: 'remote', Policies: [{ ID: policy.ID }] })).json;
  // Never replicated here: resolved in dc1 on first use.
  assert.equal((await as(dc3, token.SecretID, 'GET', '/v1/kv/missing')).status, 404);
  assert.equal((await as(dc3, token.SecretID, 'PUT', '/v1/kv/k', 'v')).status, 403);
  assert.equal((await as(dc3, 'ffffffff-0000-4000-8000-000000000000', 'GET', '/v1/kv/k')).status, 403);
  // Token reads are the primary's; local tokens are disabled.
  const read = await as(dc3, MGMT, 'GET', `/v1/acl/token/${token.AccessorID}`);
  assert.equal(read.status, 200, read.text);
  const local = await as(dc3, MGMT, 'PUT', '/v1/acl/token', { Local: true, Policies: [{ ID: policy.ID }] });
  assert.equal(local.status, 500);
  assert.equal(local.text.trim(), 'Local tokens are disabled');
  const methods = await as(dc3, MGMT, 'GET', '/v1/acl/auth-methods');
  assert.deepEqual([methods.status, methods.text.trim()], [500, 'Token replication is required for auth methods to function']);
  // The anonymous token is the primary's too: a policy given to it in dc1 applies to dc3's anonymous callers.
  assert.equal((await call(dc3, 'GET', '/v1/kv/pub/x')).status, 403);
  const pub = (await as(dc1, MGMT, 'PUT', '/v1/acl/policy', { Name: 'pub-read', Rules: 'key_prefix "pub/" { policy = "read" }' })).json;
  await until('the pub policy replicated to dc3', 20_000, async () => (await as(dc3, MGMT, 'GET', `/v1/acl/policy/${pub.ID}`)).status === 200, POLL);
  const anon = await as(dc1, MGMT, 'PUT', '/v1/acl/token/00000000-0000-0000-0000-000000000002', { Policies: [{ ID: pub.ID }] });
  assert.equal(anon.status, 200, anon.text);
  await until('anonymous reads of pub/ allowed in dc3', 10_000, async () => (await call(dc3, 'GET', '/v1/kv/pub/x')).status === 404, POLL);
});

test('a dc3 client agent authorizes its own routes with a token only dc1 holds (its server resolves it there)', async () => {
  const [dc1, , dc3] = procs;
  const client = await dcs.add('c3', 'dc3', '127.0.0.24', { primary_datacenter: 'dc1', acl: { enabled: true, default_policy: 'deny' } }, { wan: false });
  dcs.launchClient(client, dc3);
  await until('c3 to join dc3', 30_000, async () => (await get<unknown[]>(client, `/v1/agent/members?token=${MGMT}`))?.length === 2, POLL);
  const policy = (await as(dc1, MGMT, 'PUT', '/v1/acl/policy', { Name: 'agent-read', Rules: 'agent_prefix "" { policy = "read" }' })).json;
  await until('the agent-read policy replicated to dc3', 20_000, async () => (await as(dc3, MGMT, 'GET', `/v1/acl/policy/${policy.ID}`)).status === 200, POLL);
  const token = (await as(dc1, MGMT, 'PUT', '/v1/acl/token', { Description: 'agent reader', Policies: [{ ID: policy.ID }] })).json;
  assert.equal((await as(client, token.SecretID, 'GET', '/v1/agent/self')).status, 200);
  assert.equal((await as(client, token.SecretID, 'PUT', '/v1/agent/maintenance?enable=true')).status, 403);
  assert.equal((await as(client, 'dddddddd-0000-4000-8000-000000000000', 'GET', '/v1/agent/self')).status, 403);
});

test('dc3 answers its first DNS question under a DNS token only dc1 holds (resolved in the primary before answering)', async () => {
  const [dc1, , dc3] = procs;
  const policy = (await as(dc1, MGMT, 'PUT', '/v1/acl/policy', { Name: 'dns-read', Rules: 'service_prefix "" { policy = "read" }\nnode_prefix "" { policy = "read" }' })).json;
  await until('the dns-read policy replicated to dc3', 20_000, async () => (await as(dc3, MGMT, 'GET', `/v1/acl/policy/${policy.ID}`)).status === 200, POLL);
  const token = (await as(dc1, MGMT, 'PUT', '/v1/acl/token', { Description: 'dns', Policies: [{ ID: policy.ID }] })).json;
  const set = await as(dc3, MGMT, 'PUT', '/v1/agent/token/dns', { Token: token.SecretID });
  assert.equal(set.status, 200, set.text);
  const resolver = new Resolver({ timeout: 5000, tries: 1 });
  resolver.setServers([`${dc3.ip}:${dc3.dns}`]);
  // The first question: answered once dc1 has resolved the token, not under the default policy (deny).
  assert.deepEqual(await resolver.resolve4('consul.service.consul'), [dc3.ip]);
});

test('a secondary with no policies yet resolves them in the primary: its replication token is set through the API', async () => {
  const [, , , dc4] = procs;
  const before = (await call(dc4, 'GET', '/v1/acl/replication')).json;
  assert.equal(before.ReplicatedIndex, 0, before.LastErrorMessage);
  assert.equal((await as(dc4, MGMT, 'GET', '/v1/agent/self')).status, 200, 'global-management as the primary resolves it');
  const set = await as(dc4, MGMT, 'PUT', '/v1/agent/token/replication', { Token: MGMT });
  assert.equal(set.status, 200, set.text);
  const st = await until('dc4 to replicate policies', 30_000, async () => {
    const r = (await call(dc4, 'GET', '/v1/acl/replication')).json;
    return r?.ReplicatedIndex > 0 ? r : undefined;
  }, POLL);
  assert.equal(st.ReplicationType, 'policies');
  assert.equal((await as(dc4, MGMT, 'GET', '/v1/agent/self')).status, 200, 'now from its own policies');
});

test('/v1/acl/replication: off in the primary, each secondary\'s figures', async () => {
  const [dc1, dc2, dc3] = procs;
  const zero = '0001-01-01T00:00:00Z';
  const primary = (await call(dc1, 'GET', '/v1/acl/replication')).json;
  assert.equal(primary.Enabled, false);
  const s2 = await until('dc2 to report token replication', 10_000, async () => {
    const s = (await call(dc2, 'GET', '/v1/acl/replication')).json;
    return s?.ReplicatedTokenIndex > 0 && s.ReplicatedRoleIndex > 0 ? s : undefined;
  }, POLL);
  assert.deepEqual([s2.Enabled, s2.Running, s2.SourceDatacenter, s2.ReplicationType], [true, true, 'dc1', 'tokens']);
  assert.ok(s2.ReplicatedIndex > 0);
  // Go times rounded to the second; rounds before the WAN join failed (No path to datacenter), later ones succeeded.
  assert.match(s2.LastSuccess, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.notEqual(s2.LastSuccess, zero);
  if (s2.LastError !== zero) assert.ok(Date.parse(s2.LastSuccess) >= Date.parse(s2.LastError), `${s2.LastSuccess} after ${s2.LastError} (${s2.LastErrorMessage})`);
  // Consul's replication gauges on the leader.
  const metrics = (await as(dc2, MGMT, 'GET', '/v1/agent/metrics')).json as { Gauges: { Name: string; Value: number }[] };
  const gauge = (name: string) => metrics.Gauges.find((g) => g.Name === `consul.leader.replication.${name}`)?.Value;
  assert.deepEqual(['acl-policies', 'acl-roles', 'acl-tokens'].map((k) => gauge(`${k}.status`)), [1, 1, 1]);
  assert.equal(gauge('acl-tokens.index'), s2.ReplicatedTokenIndex);
  const s3 = (await call(dc3, 'GET', '/v1/acl/replication')).json;
  assert.deepEqual([s3.Enabled, s3.Running, s3.SourceDatacenter, s3.ReplicationType, s3.ReplicatedTokenIndex], [true, true, 'dc1', 'policies', 0]);
  assert.ok(s3.ReplicatedIndex > 0);
});

test('with the primary down: extend-cache keeps remotely resolved tokens, unknown ones get the default policy; replication resumes', async () => {
  const [dc1, dc2, dc3] = procs;
  const policy = (await as(dc1, MGMT, 'PUT', '/v1/acl/policy', { Name: 'outage', Rules: 'key_prefix "o/" { policy = "read" }' })).json;
  await until('the outage policy replicated to dc3', 20_000, async () => (await as(dc3, MGMT, 'GET', `/v1/acl/policy/${policy.ID}`)).status === 200, POLL);
  const token = (await as(dc1, MGMT, 'PUT', '/v1/acl/token', { Description: 'outage', Policies: [{ ID: policy.ID }] })).json;
  assert.equal((await as(dc3, token.SecretID, 'GET', '/v1/kv/o/k')).status, 404, 'resolved in dc1 while it is up');

  dc1.child!.kill('SIGKILL');
  await new Promise((r) => dc1.child!.once('exit', r));
  // Past token_ttl (1s) dc3 asks dc1 again, fails, and extend-cache keeps the token's grants.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await as(dc3, token.SecretID, 'GET', '/v1/kv/o/k')).status, 404);
  assert.equal((await as(dc3, token.SecretID, 'GET', '/v1/kv/elsewhere')).status, 403);
  // A token never seen: the default policy (deny) answers.
  assert.equal((await as(dc3, 'eeeeeeee-0000-4000-8000-000000000000', 'GET', '/v1/kv/o/k')).status, 403);
  const failed = await until('dc2 to report a failed replication round', 20_000, async () => {
    const st = (await call(dc2, 'GET', '/v1/acl/replication')).json;
    return st?.LastErrorMessage && Date.parse(st.LastError) >= Date.parse(st.LastSuccess) ? st : undefined;
  }, POLL);
  assert.equal(failed.Running, true);

  dcs.launchServer(dc1, ['-retry-join-wan', `${dc2.ip}:${dc2.wan}`, '-retry-interval-wan', '1s']);
  const back = await until('dc1 to answer again', 30_000, async () => {
    const r = await as(dc1, MGMT, 'PUT', '/v1/acl/policy', { Name: 'after-outage', Rules: '' }).catch(() => undefined);
    return r?.status === 200 ? r.json : undefined;
  }, POLL);
  await until('the policy made after the outage replicated to dc2', 90_000, async () => (await as(dc2, MGMT, 'GET', `/v1/acl/policy/${back.ID}`)).status === 200, POLL);
});
