// The request rate limiter on a manual clock: Consul's burst of ten seconds of rate, refill,
// permissive counting without refusal, 429/503 by leadership, reload, exempt routes, and the
// per-source-IP limits of control-plane-request-limit entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { ProconsulError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { Router } from './router.ts';
import { HttpServer } from './server.ts';
import { RequestRateLimiter, RETRY_ELSEWHERE, RETRY_LATER, type ControlPlaneLimitEntry, type RequestLimitsConfig } from './rate-limit.ts';
import { operationFor, type RateOperation } from './rate-limit-ops.ts';
import { txnHandlers } from './v1/txn.ts';
import type { TxnEndpoint } from '../endpoint/index.ts';

const KV_PUT: RateOperation = { name: 'KVS.Apply', type: 'write', category: 'KV' };
const KV_GET: RateOperation = { name: 'KVS.Get', type: 'read', category: 'KV' };
const CATALOG: RateOperation = { name: 'Catalog.ListNodes', type: 'read', category: 'Catalog' };

function limiter(config: Partial<RequestLimitsConfig>, extra: { leader?: boolean; entries?: ControlPlaneLimitEntry[]; isServer?: (ip: string) => boolean } = {}) {
  const clock = new ManualClock();
  const metrics: { limit_type: string; op: string; mode: string }[] = [];
  let entries = extra.entries ?? [];
  let index = 1;
  const l = new RequestRateLimiter({
    clock, logger: silentLogger(), isLeader: () => extra.leader ?? false, exceeded: (m) => metrics.push(m),
    config: { mode: 'enforcing', readRate: -1, writeRate: -1, ...config },
    entries: { index: () => index, list: () => entries }, isServer: extra.isServer,
  });
  const setEntries = (next: ControlPlaneLimitEntry[]) => { entries = next; index += 1; };
  return { l, clock, metrics, setEntries };
}

const outcome = (f: () => void): string => {
  try {
    f();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ProconsulError);
    return `${err.code}: ${err.message}`;
  }
};

test('enforcing: a burst of ten seconds of write_rate, then 429 until the bucket refills', () => {
  const { l, clock, metrics } = limiter({ writeRate: 1 });
  for (let i = 0; i < 10; i++) assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), 'ok', `write ${i}`);
  assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), `rate_limited: ${RETRY_ELSEWHERE}`);
  assert.deepEqual(metrics, [{ limit_type: 'global/write', op: 'KVS.Apply', mode: 'enforcing' }]);
  // Reads have their own (unlimited) bucket.
  assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), 'ok');
  clock.advance(999);
  assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), `rate_limited: ${RETRY_ELSEWHERE}`);
  clock.advance(1);
  assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), 'ok');
  assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), `rate_limited: ${RETRY_ELSEWHERE}`);
});

test('a write refused on the leader is 503 (retry later); a read there is 429', () => {
  const { l } = limiter({ writeRate: 0, readRate: 0 }, { leader: true });
  assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), `unavailable: ${RETRY_LATER}`);
  assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), `rate_limited: ${RETRY_ELSEWHERE}`);
});

test('permissive: nothing is refused, each excess is counted with its mode', () => {
  const { l, metrics } = limiter({ mode: 'permissive', readRate: 0.5 });
  // int(0.5) * 10 = 0: Go's limiter with a zero burst lets nothing through.
  for (let i = 0; i < 3; i++) assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), 'ok');
  assert.equal(metrics.length, 3);
  assert.deepEqual(metrics[0], { limit_type: 'global/read', op: 'KVS.Get', mode: 'permissive' });
});

test('disabled counts nothing; a reload to enforcing applies the mode at once and new rates keep saved tokens', () => {
  const { l, clock, metrics } = limiter({ mode: 'disabled', writeRate: 1 });
  for (let i = 0; i < 50; i++) l.check(KV_PUT, '10.0.0.1');
  assert.equal(metrics.length, 0);
  l.update({ mode: 'enforcing', readRate: -1, writeRate: 1 });
  for (let i = 0; i < 10; i++) assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), 'ok');
  assert.match(outcome(() => l.check(KV_PUT, '10.0.0.1')), /^rate_limited/);
  // A higher rate refills faster; tokens saved before are not handed out again.
  l.update({ mode: 'enforcing', readRate: -1, writeRate: 100 });
  assert.match(outcome(() => l.check(KV_PUT, '10.0.0.1')), /^rate_limited/);
  clock.advance(10);
  assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), 'ok');
  // Back to no limit.
  l.update({ mode: 'enforcing', readRate: -1, writeRate: -1 });
  for (let i = 0; i < 100; i++) assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), 'ok');
});

test('control-plane-request-limit: per source IP, per category, in the entry mode, and only while the global mode is on', () => {
  const entry: ControlPlaneLimitEntry = { Name: 'e', Mode: 'enforcing', ReadRate: 100, WriteRate: 100, KV: { ReadRate: 1, WriteRate: 100 } };
  const { l, metrics, setEntries } = limiter({ mode: 'permissive' }, { entries: [entry] });
  for (let i = 0; i < 10; i++) assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), 'ok');
  assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), `rate_limited: ${RETRY_ELSEWHERE}`);
  assert.deepEqual(metrics, [{ limit_type: 'ip/KV/read', op: 'KVS.Get', mode: 'enforcing' }]);
  metrics.length = 0;
  // Another source has its own buckets; another category is not held by KV's.
  assert.equal(outcome(() => l.check(KV_GET, '::ffff:10.0.0.1')), `rate_limited: ${RETRY_ELSEWHERE}`, 'the same client over IPv6');
  assert.equal(outcome(() => l.check(KV_GET, '10.0.0.2')), 'ok');
  assert.equal(outcome(() => l.check(CATALOG, '10.0.0.1')), 'ok');
  // A permissive entry only counts.
  setEntries([{ ...entry, Mode: 'permissive' }]);
  for (let i = 0; i < 11; i++) assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), 'ok');
  assert.equal(metrics.at(-1)!.mode, 'permissive');
  // With the global mode disabled Consul checks nothing, entries included.
  setEntries([entry]);
  l.update({ mode: 'disabled', readRate: -1, writeRate: -1 });
  for (let i = 0; i < 20; i++) assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), 'ok');
});

test('routes stand for Consul RPCs: reads, writes, and exempt or agent-local routes', () => {
  const q = (s = '') => new URLSearchParams(s);
  assert.deepEqual(operationFor('PUT', '/v1/kv/', 'a', q()), KV_PUT);
  assert.equal(operationFor('GET', '/v1/kv/', 'a', q('recurse'))!.name, 'KVS.List');
  assert.equal(operationFor('GET', '/v1/kv/', 'a', q('keys'))!.name, 'KVS.ListKeys');
  assert.deepEqual(operationFor('GET', '/v1/catalog/nodes', '', q()), CATALOG);
  assert.equal(operationFor('GET', '/v1/config/', 'service-defaults/web', q())!.name, 'ConfigEntry.Get');
  assert.equal(operationFor('GET', '/v1/config/', 'service-defaults', q())!.name, 'ConfigEntry.List');
  assert.equal(operationFor('GET', '/v1/query/', 'abc/execute', q())!.name, 'PreparedQuery.Execute');
  assert.equal(operationFor('PUT', '/v1/session/renew/', 'x', q())!.type, 'write');
  // Consul's tables: cloning a token and every keyring call are reads; peering goes through gRPC.
  assert.deepEqual(operationFor('PUT', '/v1/acl/token/', 'abc/clone', q()), { name: 'ACL.TokenClone', type: 'read', category: 'ACL' });
  assert.equal(operationFor('PUT', '/v1/acl/token/', 'abc', q())!.name, 'ACL.TokenSet');
  for (const m of ['GET', 'POST', 'PUT', 'DELETE']) assert.deepEqual(operationFor(m, '/v1/operator/keyring', '', q()), { name: 'Internal.KeyringOperation', type: 'read', category: 'Internal' }, m);
  assert.deepEqual(operationFor('POST', '/v1/peering/token', '', q()), { name: '/hashicorp.consul.internal.peering.PeeringService/GenerateToken', type: 'write', category: 'Peering' });
  assert.equal(operationFor('DELETE', '/v1/peering/', 'p', q())!.type, 'write');
  assert.equal(operationFor('GET', '/v1/peerings', '', q())!.type, 'read');
  assert.equal(operationFor('GET', '/v1/internal/peering/stream', '', q())!.category, 'PeerStream');
  // An RPC Consul's tables do not list is a read (the zero type) with no category.
  assert.deepEqual(operationFor('GET', '/v1/operator/usage', '', q()), { name: 'Operator.Usage', type: 'read', category: '' });
  assert.equal(operationFor('GET', '/v1/exported-services', '', q())!.type, 'read');
  for (const [m, p] of [['GET', '/v1/status/leader'], ['GET', '/v1/operator/raft/configuration'], ['GET', '/v1/agent/self'], ['GET', '/v1/snapshot'], ['PUT', '/v1/agent/service/register']]) {
    assert.equal(operationFor(m, p, '', q()), null, `${m} ${p}`);
  }
});

test('the HTTP transport answers a refusal with Consul codes and texts, and counts only RPC routes', async () => {
  const { l } = limiter({ writeRate: 0 });
  const ok = async () => ({ body: true });
  const router = new Router().route('PUT', '/v1/kv/*', ok).route('GET', '/v1/status/leader', ok).route('PUT', '/v1/agent/service/register', ok);
  const server = new HttpServer({ router, logger: silentLogger(), config: { defaultAclPolicy: 'allow', responseHeaders: {} }, rateLimit: l });
  const res = await server.handle({ method: 'PUT', url: '/v1/kv/a' });
  assert.equal(res.status, 429);
  assert.equal(res.body.toString(), RETRY_ELSEWHERE);
  assert.equal((await server.handle({ method: 'PUT', url: '/v1/agent/service/register' })).status, 200);
  assert.equal((await server.handle({ method: 'GET', url: '/v1/status/leader' })).status, 200);
  // The agent's own calls are counted where they reach a server's RPC, not here.
  assert.equal((await server.handle({ method: 'PUT', url: '/v1/kv/a', internal: true })).status, 200);
});

test('while every limit is off the transport classifies and counts nothing (the default costs no lookup)', async () => {
  const { l } = limiter({ mode: 'disabled', writeRate: 0 });
  assert.equal(l.active, false);
  l.update({ mode: 'permissive', readRate: -1, writeRate: 0 });
  assert.equal(l.active, true);
  let checks = 0;
  const off = { active: false, check: () => { checks += 1; } };
  const router = new Router().route('PUT', '/v1/kv/*', async () => ({ body: true }));
  const server = new HttpServer({ router, logger: silentLogger(), config: { defaultAclPolicy: 'allow', responseHeaders: {} }, rateLimit: off });
  assert.equal((await server.handle({ method: 'PUT', url: '/v1/kv/a' })).status, 200);
  assert.equal(checks, 0);
  off.active = true;
  assert.equal((await server.handle({ method: 'PUT', url: '/v1/kv/a' })).status, 200);
  assert.equal(checks, 1);
});

test('per-source buckets do not pile up: ones that have refilled are dropped, without changing any answer', () => {
  const entry: ControlPlaneLimitEntry = { Name: 'e', Mode: 'enforcing', ReadRate: 1, WriteRate: 1 };
  const { l, clock } = limiter({ mode: 'permissive' }, { entries: [entry] });
  for (let i = 0; i < 5000; i++) l.check(KV_GET, `10.0.${i >> 8}.${i & 255}`);
  assert.equal(l.sourceBuckets, 5000);
  // One source drains its bucket shortly before the sweep: it is kept, with what it has left.
  clock.advance(29_000);
  for (let i = 0; i < 10; i++) assert.equal(outcome(() => l.check(KV_GET, '10.9.9.9')), 'ok');
  assert.equal(outcome(() => l.check(KV_GET, '10.9.9.9')), `rate_limited: ${RETRY_ELSEWHERE}`);
  clock.advance(2_000);
  assert.equal(outcome(() => l.check(KV_GET, '10.9.9.9')), 'ok');
  assert.equal(l.sourceBuckets, 1);
  assert.equal(outcome(() => l.check(KV_GET, '10.9.9.9')), 'ok');
  assert.equal(outcome(() => l.check(KV_GET, '10.9.9.9')), `rate_limited: ${RETRY_ELSEWHERE}`);
  // A dropped source starts with a full bucket, as it would have had.
  for (let i = 0; i < 10; i++) assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), 'ok');
  assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), `rate_limited: ${RETRY_ELSEWHERE}`);
});

test('a limit set by a reload where there was none starts with its full burst', () => {
  const { l } = limiter({ writeRate: -1 });
  for (let i = 0; i < 100; i++) assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), 'ok');
  l.update({ mode: 'enforcing', readRate: -1, writeRate: 1 });
  for (let i = 0; i < 10; i++) assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), 'ok', `write ${i}`);
  assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.1')), `rate_limited: ${RETRY_ELSEWHERE}`);
});

test('a transaction counts as Txn.Read when all its operations read, else Txn.Apply, once its body is decoded', async () => {
  const { l, metrics } = limiter({ writeRate: 0 });
  const applied: number[] = [];
  const endpoint = { apply: async (ops: unknown[]) => { applied.push(ops.length); return { results: [], errors: null }; } } as unknown as TxnEndpoint;
  const txn = txnHandlers(endpoint, { datacenter: 'dc1', defaultToken: '', kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024 });
  const router = new Router().route('PUT', '/v1/txn', txn.put);
  const server = new HttpServer({ router, logger: silentLogger(), config: { defaultAclPolicy: 'allow', responseHeaders: {} }, rateLimit: l });
  const read = JSON.stringify([{ KV: { Verb: 'get', Key: 'a' } }]);
  const write = JSON.stringify([{ KV: { Verb: 'set', Key: 'a', Value: 'eA==' } }]);
  assert.equal((await server.handle({ method: 'PUT', url: '/v1/txn', body: read })).status, 200);
  const refused = await server.handle({ method: 'PUT', url: '/v1/txn', body: write });
  assert.equal(refused.status, 429);
  assert.equal(refused.body.toString(), RETRY_ELSEWHERE);
  assert.deepEqual(applied, [1], 'the refused write never reached the endpoint');
  assert.deepEqual(metrics, [{ limit_type: 'global/write', op: 'Txn.Apply', mode: 'enforcing' }]);
});

test('requests from other servers skip the per-source limits, not the global ones; servers are looked up only for per-source limits', () => {
  const asked: string[] = [];
  const isServer = (ip: string) => { asked.push(ip); return ip === '10.0.0.9'; };
  const { l, setEntries } = limiter({ writeRate: 1 }, { isServer });
  for (let i = 0; i < 5; i++) l.check(KV_PUT, '10.0.0.9');
  assert.deepEqual(asked, [], 'no per-source limit: no lookup');
  setEntries([{ Name: 'e', Mode: 'enforcing', ReadRate: 1, WriteRate: 1 }]);
  for (let i = 0; i < 20; i++) assert.equal(outcome(() => l.check(KV_GET, '10.0.0.9')), 'ok', `server read ${i}`);
  assert.equal(asked.length, 20);
  for (let i = 0; i < 10; i++) assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), 'ok');
  assert.equal(outcome(() => l.check(KV_GET, '10.0.0.1')), `rate_limited: ${RETRY_ELSEWHERE}`);
  // The global write limit holds servers too.
  for (let i = 0; i < 5; i++) assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.9')), 'ok');
  assert.equal(outcome(() => l.check(KV_PUT, '10.0.0.9')), `rate_limited: ${RETRY_ELSEWHERE}`);
});
