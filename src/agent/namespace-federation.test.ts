import assert from 'node:assert/strict';
import { test } from 'node:test';
import { namespacePrimaryRouter, writesNamespaces } from './namespace-federation.ts';

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
