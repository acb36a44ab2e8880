import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchPrimaryNamespaces, namespacePrimaryRouter, writesNamespaces } from './namespace-federation.ts';
import type { Forwarder, ForwardResponse } from './forward.ts';
import type { PrimaryForwardDeps } from './primary-forward.ts';

test('namespace writes are the primary\'s; reads, partitions and other routes are not', () => {
  for (const [m, p] of [['PUT', '/v1/namespace'], ['PUT', '/v1/namespace/team-a'], ['DELETE', '/v1/namespace/team-a']]) {
    assert.equal(writesNamespaces(m, p), true, `${m} ${p}`);
  }
  for (const [m, p] of [['GET', '/v1/namespace/team-a'], ['GET', '/v1/namespaces'], ['PUT', '/v1/partition'], ['DELETE', '/v1/partition/p'], ['PUT', '/v1/namespaces']]) {
    assert.equal(writesNamespaces(m, p), false, `${m} ${p}`);
  }
});

/** A route table answering every route with its name, and a primary no server of which is known. */
function tables() {
  const answer = (who: string) => ({ handler: async () => ({ body: who }), rest: '', pattern: '*' });
  const router = { match: () => answer('router'), list: () => [] };
  const local = { match: () => answer('local') };
  const primary = {
    primary: 'dc1', dc: { datacenter: 'dc2', nodeName: 'n', routes: { rpcAddresses: () => [] }, defaultToken: () => '', forwarder: {} as never },
  };
  return { router, local, primary };
}

const request = (path: string, dc?: string) => ({
  method: 'PUT', path, params: { rest: '' }, query: new URLSearchParams(dc ? { dc } : {}), headers: {}, remoteAddr: '127.0.0.1',
  signal: new AbortController().signal, body: async () => Buffer.alloc(0),
});

test('a secondary sends namespace writes to the primary; the primary applies them itself whatever ?dc says', async () => {
  const { router, local, primary } = tables();
  const secondary = namespacePrimaryRouter(router, local, primary);
  await assert.rejects(secondary.match('PUT', '/v1/namespace')!.handler(request('/v1/namespace')), /No path to datacenter/);
  await assert.rejects(secondary.match('DELETE', '/v1/namespace/a')!.handler({ ...request('/v1/namespace/a'), method: 'DELETE' }), /No path to datacenter/);
  assert.deepEqual(await secondary.match('GET', '/v1/namespaces')!.handler(request('/v1/namespaces')), { body: 'router' });
  const own = namespacePrimaryRouter(router, local, null);
  assert.deepEqual(await own.match('PUT', '/v1/namespace')!.handler(request('/v1/namespace', 'dc2')), { body: 'local' });
});

test('fetchPrimaryNamespaces: with ACLs on and no replication token the (anonymous) list counts as filtered; a consistent read neither blocks nor is stale', async () => {
  const urls: string[] = [];
  const res: ForwardResponse = { status: 200, headers: { 'X-Consul-Index': '7' }, body: Buffer.from(JSON.stringify([{ Name: 'default', ModifyIndex: 1 }])), server: '127.0.0.1:1' };
  const forwarder = { send: async (_: unknown, r: { url: string }) => (urls.push(r.url), res) } as unknown as Forwarder;
  const primary: PrimaryForwardDeps = {
    primary: 'dc1', dc: { datacenter: 'dc2', nodeName: 'n', routes: { rpcAddresses: () => ['127.0.0.1:1'] }, forwarder, defaultToken: () => '' } as PrimaryForwardDeps['dc'],
  };
  const signal = new AbortController().signal;
  // Consul sends X-Consul-Results-Filtered-By-ACLs only to callers with a token: the anonymous list cannot say it is partial.
  assert.equal((await fetchPrimaryNamespaces({ primary, token: () => '', aclsEnabled: true }, 3, signal)).filtered, true);
  assert.equal((await fetchPrimaryNamespaces({ primary, token: () => 'repl', aclsEnabled: true }, 3, signal)).filtered, false);
  assert.equal((await fetchPrimaryNamespaces({ primary, token: () => '', aclsEnabled: false }, 3, signal)).filtered, false);
  const got = await fetchPrimaryNamespaces({ primary, token: () => 'repl', aclsEnabled: true }, 0, signal, true);
  assert.equal(got.index, 7);
  assert.match(urls[0], /[?&]stale=&index=3&wait=5m0s/);
  assert.match(urls.at(-1)!, /[?&]consistent=(&|$)/);
  assert.doesNotMatch(urls.at(-1)!, /stale|index=|wait=/);
});
