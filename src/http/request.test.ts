// Unit tests of the cross-cutting request parsers: token precedence (Consul's parseToken),
// datacenter and tenancy checks, and blocking/consistency options.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseToken, queryOptions, checkTarget, type HttpRequest, type RequestConfig } from './request.ts';

const cfg: RequestConfig = { datacenter: 'dc1', defaultToken: 'agent-default' };

function mk(query: string, headers: Record<string, string> = {}): HttpRequest {
  return {
    method: 'GET', path: '/v1/kv/x', params: { rest: 'x' }, query: new URLSearchParams(query),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    remoteAddr: '127.0.0.1', signal: new AbortController().signal, body: async () => Buffer.alloc(0),
  };
}

describe('parseToken', () => {
  const all = { 'X-Consul-Token': 'header', Authorization: 'Bearer bearer' };

  test('?token wins over X-Consul-Token and Authorization', () => {
    assert.equal(parseToken(mk('token=query', all), cfg), 'query');
  });

  test('X-Consul-Token wins over Authorization: Bearer', () => {
    assert.equal(parseToken(mk('', all), cfg), 'header');
  });

  test('Authorization: Bearer, scheme case-insensitive, first word of the value', () => {
    assert.equal(parseToken(mk('', { Authorization: 'Bearer abc' }), cfg), 'abc');
    assert.equal(parseToken(mk('', { Authorization: 'bEaReR abc' }), cfg), 'abc');
    assert.equal(parseToken(mk('', { Authorization: 'Bearer  abc def' }), cfg), 'abc');
  });

  test('other schemes, a bare scheme and empty values fall through to the agent default', () => {
    assert.equal(parseToken(mk('', { Authorization: 'Basic dXNlcjpwYXNz' }), cfg), 'agent-default');
    assert.equal(parseToken(mk('', { Authorization: 'Bearer' }), cfg), 'agent-default');
    assert.equal(parseToken(mk('token=', { 'X-Consul-Token': '' }), cfg), 'agent-default');
    assert.equal(parseToken(mk('token=', { 'X-Consul-Token': 'h' }), cfg), 'h', 'an empty ?token does not win');
  });
});

describe('queryOptions', () => {
  test('wait and index parse; a negative wait means the default wait, as in Go', () => {
    const o = queryOptions(mk('index=42&wait=1.5s'), cfg);
    assert.equal(o.minIndex, 42);
    assert.equal(o.waitMs, 1500);
    assert.equal(queryOptions(mk('wait=-1s'), cfg).waitMs, 0);
  });

  test('consistency modes', () => {
    assert.equal(queryOptions(mk(''), cfg).consistency, 'default');
    assert.equal(queryOptions(mk('stale'), cfg).consistency, 'stale');
    assert.equal(queryOptions(mk('consistent'), cfg).consistency, 'consistent');
    assert.equal(queryOptions(mk('max_stale=0s'), cfg).consistency, 'default');
    assert.throws(() => queryOptions(mk('max_stale=abc'), cfg), /Invalid max_stale value "abc"/);
  });

  test("the abort signal is the request's, taken only when the query asks for it", () => {
    const ctl = new AbortController();
    let taken = 0;
    const req = { ...mk('index=5'), get signal() { taken++; return ctl.signal; } };
    const o = queryOptions(req, cfg);
    assert.equal(taken, 0, 'parsing must not make the request build its abort wiring');
    assert.equal(o.signal, ctl.signal);
    assert.equal(taken, 1);
  });

  test("errors in Consul's parse() order: consistency, then Cache-Control, then wait, then index", () => {
    const bad = { 'Cache-Control': 'max-age=soon' };
    assert.throws(() => queryOptions(mk('stale&consistent&wait=x&index=y', bad), cfg), /Cannot specify \?stale with \?consistent/);
    assert.throws(() => queryOptions(mk('max_stale=x&index=y'), cfg), /Invalid max_stale value "x"/);
    assert.throws(() => queryOptions(mk('wait=x&index=y', bad), cfg), /^BadRequestError: Invalid Cache-Control header\.$/);
    assert.throws(() => queryOptions(mk('wait=x&index=y'), cfg), /Invalid wait time/);
    assert.throws(() => queryOptions(mk('index=y'), cfg), /Invalid index/);
  });

  test('tenancy can be left to the endpoint (txn and status do not take enterprise meta)', () => {
    assert.throws(() => queryOptions(mk('ns=foo'), cfg), /Namespaces are a Consul Enterprise feature/);
    assert.doesNotThrow(() => queryOptions(mk('ns=foo'), cfg, { tenancy: false }));
    assert.throws(() => queryOptions(mk('dc=dc2'), cfg, { tenancy: false }), /No path to datacenter/);
  });
});

describe('checkTarget', () => {
  test('the namespace header is checked before the query parameter, partitions after namespaces', () => {
    assert.throws(() => checkTarget(mk('ns=q&partition=p', { 'X-Consul-Namespace': 'h' }), cfg), /^BadRequestError: Invalid header: "X-Consul-Namespace"/);
    assert.throws(() => checkTarget(mk('partition=p&ns=q'), cfg), /Invalid query parameter: "ns"/);
    assert.throws(() => checkTarget(mk('', { 'X-Consul-Partition': 'p' }), cfg), /Invalid header: "X-Consul-Partition" - Partitions are a Consul Enterprise feature/);
    assert.doesNotThrow(() => checkTarget(mk('dc=dc1&ns='), cfg));
  });
});

describe('discovery_max_stale', () => {
  const on: RequestConfig = { ...cfg, discoveryMaxStaleMs: 5_000, useCache: true };
  const at = (path: string, query = '') => ({ ...mk(query), path });

  test('catalog and health reads without a consistency choice become stale; others and explicit choices do not', () => {
    assert.equal(queryOptions(at('/v1/catalog/services'), on).consistency, 'stale');
    assert.equal(queryOptions(at('/v1/health/service/web', 'max_stale=0s'), on).consistency, 'stale');
    assert.equal(queryOptions(at('/v1/kv/x'), on).consistency, 'default');
    assert.equal(queryOptions(at('/v1/catalog/services'), cfg).consistency, 'default');
    for (const q of ['consistent', 'leader', 'cached']) assert.notEqual(queryOptions(at('/v1/catalog/nodes', q), on).consistency, 'stale', q);
    // ?cached only counts while http_config.use_cache is on (otherwise it is ignored as absent).
    assert.equal(queryOptions(at('/v1/catalog/nodes', 'cached'), { ...on, useCache: false }).consistency, 'stale');
  });

  test('the stale read carries its bound: a positive ?max_stale, else discovery_max_stale; ?stale alone and KV reads have none', () => {
    assert.equal(queryOptions(at('/v1/catalog/services'), on).maxStaleMs, 5_000);
    assert.equal(queryOptions(at('/v1/health/service/web', 'max_stale=0s'), on).maxStaleMs, 5_000);
    assert.equal(queryOptions(at('/v1/health/service/web', 'max_stale=2s'), on).maxStaleMs, 2_000);
    assert.equal(queryOptions(at('/v1/catalog/nodes', 'max_stale=3s'), cfg).maxStaleMs, 3_000);
    assert.equal(queryOptions(at('/v1/catalog/nodes', 'stale'), on).maxStaleMs, undefined);
    assert.equal(queryOptions(at('/v1/kv/x', 'max_stale=3s'), on).maxStaleMs, undefined);
  });
});
