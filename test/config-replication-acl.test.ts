// Config entry replication reads the primary under acl.tokens.replication: with ACLs on in dc1
// (default deny), dc2 replicates only the entries that token may read (service-defaults with
// service:read; service-intentions once the token may read intentions too), and a write sent to dc2
// reaches dc1 with the caller's token, refused there without one.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { call, DcProcs, get } from './support/dc-procs.ts';
import { until } from './support/wait.ts';

const dcs = new DcProcs('config-repl-acl');
const procs = dcs.procs;
const POLL = dcs.poll;
const ROOT = 'b1f0c3a2-6a1e-4c39-9f55-2f1f2d9f0a01';
const REPL = 'c2e1d4b3-7b2f-4d4a-8a66-3e2e3e8e1b02';
const token = (t: string) => `token=${t}`;

before(async () => {
  const dc1 = await dcs.add('s1', 'dc1', '127.0.0.4', {
    primary_datacenter: 'dc1', connect: { enabled: true }, acl: { enabled: true, default_policy: 'deny', tokens: { initial_management: ROOT } },
  });
  const dc2 = await dcs.add('s2', 'dc2', '127.0.0.5', { primary_datacenter: 'dc1', connect: { enabled: true }, acl: { tokens: { replication: REPL } } });
  dcs.launchServer(dc1);
  // The replication token may read services but not their intentions (service read alone implies intentions read).
  await until('dc1 to take the management token', 30_000, async () => (await call(dc1, 'GET', `/v1/acl/token/self?${token(ROOT)}`).catch(() => undefined))?.status === 200, POLL);
  const policy = await call(dc1, 'PUT', `/v1/acl/policy?${token(ROOT)}`, { Name: 'repl', Rules: 'service_prefix "" { policy = "read" intentions = "deny" }' });
  assert.equal(policy.status, 200, policy.text);
  const made = await call(dc1, 'PUT', `/v1/acl/token?${token(ROOT)}`, { SecretID: REPL, Policies: [{ Name: 'repl' }] });
  assert.equal(made.status, 200, made.text);
  dcs.launchServer(dc2, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  await until('dc2 to see both datacenters', 30_000, async () => (await get<string[]>(dc2, '/v1/catalog/datacenters'))?.length === 2, POLL);
});

test('only what the replication token may read is replicated; widening it brings the rest', async () => {
  const [dc1, dc2] = procs;
  assert.equal((await call(dc1, 'PUT', `/v1/config?${token(ROOT)}`, { Kind: 'service-intentions', Name: 'db', Sources: [{ Name: 'web', Action: 'deny' }] })).json, true);
  assert.equal((await call(dc1, 'PUT', `/v1/config?${token(ROOT)}`, { Kind: 'service-defaults', Name: 'web', Protocol: 'http' })).json, true);
  await until('service-defaults/web in dc2', 20_000, async () => (await call(dc2, 'GET', '/v1/config/service-defaults/web')).status === 200, POLL);
  assert.equal((await call(dc2, 'GET', '/v1/config/service-intentions/db')).status, 404, 'intentions need intentions read');
  const policy = (await call(dc1, 'GET', `/v1/acl/policy/name/repl?${token(ROOT)}`)).json as { ID: string };
  const widened = await call(dc1, 'PUT', `/v1/acl/policy/${policy.ID}?${token(ROOT)}`, {
    Name: 'repl', Rules: 'service_prefix "" { policy = "read" intentions = "read" }',
  });
  assert.equal(widened.status, 200, widened.text);
  // A blocking read keeps the rights it started with (as Consul's): the read after the one this
  // write ends is made with the wider ones, and the next change brings what they may read.
  await call(dc1, 'PUT', `/v1/config?${token(ROOT)}`, { Kind: 'service-defaults', Name: 'nudge', Protocol: 'http' });
  await until('service-defaults/nudge in dc2', 20_000, async () => (await call(dc2, 'GET', '/v1/config/service-defaults/nudge')).status === 200, POLL);
  await call(dc1, 'PUT', `/v1/config?${token(ROOT)}`, { Kind: 'service-defaults', Name: 'nudge', Protocol: 'tcp' });
  await until('service-intentions/db in dc2', 20_000, async () => (await call(dc2, 'GET', '/v1/config/service-intentions/db')).status === 200, POLL);
});

test('a write sent to the secondary is authorized by the primary with the caller\'s token', async () => {
  const [dc1, dc2] = procs;
  const anonymous = await call(dc2, 'PUT', '/v1/config', { Kind: 'service-defaults', Name: 'api', Protocol: 'http' });
  assert.equal(anonymous.status, 403, anonymous.text);
  assert.equal((await call(dc2, 'PUT', `/v1/config?${token(ROOT)}`, { Kind: 'service-defaults', Name: 'api', Protocol: 'http' })).json, true);
  assert.equal(((await call(dc1, 'GET', `/v1/config/service-defaults/api?${token(ROOT)}`)).json as { Protocol: string }).Protocol, 'http');
});
