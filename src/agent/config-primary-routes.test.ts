import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configPrimaryRouter, writesConfigEntries } from './config-primary-routes.ts';

test('config entry and intention writes are the primary\'s; reads and other routes are not', () => {
  const primary: [string, string][] = [
    ['PUT', '/v1/config'], ['DELETE', '/v1/config/service-defaults/web'], ['POST', '/v1/connect/intentions'],
    ['PUT', '/v1/connect/intentions/exact'], ['DELETE', '/v1/connect/intentions/exact'],
    ['PUT', '/v1/connect/intentions/0b3a4c1e-0000-0000-0000-000000000000'], ['DELETE', '/v1/connect/intentions/0b3a4c1e-0000-0000-0000-000000000000'],
  ];
  for (const [m, p] of primary) assert.equal(writesConfigEntries(m, p), true, `${m} ${p}`);
  const local: [string, string][] = [
    ['GET', '/v1/config/service-defaults'], ['GET', '/v1/connect/intentions'], ['GET', '/v1/connect/intentions/check'],
    ['GET', '/v1/connect/intentions/exact'], ['POST', '/v1/agent/connect/authorize'], ['PUT', '/v1/kv/config'],
    ['GET', '/v1/exported-services'], ['PUT', '/v1/configuration'],
  ];
  for (const [m, p] of local) assert.equal(writesConfigEntries(m, p), false, `${m} ${p}`);
});

/** A route table answering every route with its name, and a primary no server of which is known. */
function tables() {
  const answer = (who: string) => ({ handler: async () => ({ body: who }), rest: '', pattern: '*' });
  const router = { match: () => answer('router'), list: () => [] };
  const local = { match: () => answer('local') };
  const noServers = { rpcAddresses: () => [] };
  const primary = {
    primary: 'dc1',
    dc: { datacenter: 'dc2', nodeName: 'n', routes: noServers, defaultToken: () => '', forwarder: {} as never },
  };
  return { router, local, primary };
}

const request = (path: string, dc?: string) => ({
  method: 'PUT', path, params: { rest: '' }, query: new URLSearchParams(dc ? { dc } : {}), headers: {}, remoteAddr: '127.0.0.1',
  signal: new AbortController().signal, body: async () => Buffer.alloc(0),
});

test('a secondary sends the writes to the primary; the primary applies them itself whatever ?dc says', async () => {
  const { router, local, primary } = tables();
  const secondary = configPrimaryRouter(router, local, primary);
  await assert.rejects(secondary.match('PUT', '/v1/config')!.handler(request('/v1/config')), /No path to datacenter/);
  assert.deepEqual(await secondary.match('GET', '/v1/config/service-defaults')!.handler(request('/v1/config/service-defaults')), { body: 'router' });
  const own = configPrimaryRouter(router, local, null);
  assert.deepEqual(await own.match('PUT', '/v1/config')!.handler(request('/v1/config', 'dc2')), { body: 'local' });
});

test('without Connect in the secondary, intention writes fail there instead of going to the primary', async () => {
  const { router, local, primary } = tables();
  const noConnect = configPrimaryRouter(router, local, primary, false);
  assert.deepEqual(await noConnect.match('PUT', '/v1/connect/intentions/exact')!.handler(request('/v1/connect/intentions/exact')), { body: 'local' });
  await assert.rejects(noConnect.match('PUT', '/v1/config')!.handler(request('/v1/config')), /No path to datacenter/);
});

const put = (path: string, body: unknown, dc?: string) => ({ ...request(path, dc), body: async () => Buffer.from(JSON.stringify(body)) });
const EXPORTED = { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'web', Consumers: [{ Peer: 'other' }] }] };

test('exported-services writes must target the primary datacenter (Consul\'s gateWriteToSecondary)', async () => {
  const { router, local, primary } = tables();
  const refused = /exported-services writes must not target secondary datacenters\./;
  // In the secondary: no ?dc targets dc2 itself; ?dc=dc1 goes to the primary.
  const secondary = configPrimaryRouter(router, local, primary, true, { datacenter: 'dc2', primary: 'dc1' });
  await assert.rejects(secondary.match('PUT', '/v1/config')!.handler(put('/v1/config', EXPORTED)), refused);
  await assert.rejects(secondary.match('PUT', '/v1/config')!.handler(put('/v1/config', EXPORTED, 'dc1')), /No path to datacenter/);
  await assert.rejects(secondary.match('PUT', '/v1/config')!.handler(put('/v1/config', { Kind: 'service-defaults', Name: 'web' })), /No path to datacenter/);
  // In the primary: ?dc naming a secondary is refused; its own name or none is applied.
  const own = configPrimaryRouter(router, local, null, true, { datacenter: 'dc1', primary: 'dc1' });
  await assert.rejects(own.match('PUT', '/v1/config')!.handler(put('/v1/config', EXPORTED, 'dc2')), refused);
  assert.deepEqual(await own.match('PUT', '/v1/config')!.handler(put('/v1/config', EXPORTED)), { body: 'local' });
  assert.deepEqual(await own.match('PUT', '/v1/config')!.handler(put('/v1/config', EXPORTED, 'dc1')), { body: 'local' });
  // Other kinds, and bodies the handler refuses itself (400), are not gated; the body read reaches the handler.
  let seen = '';
  const reading = { match: () => ({ handler: async (req: { body(): Promise<Buffer> }) => ({ body: (seen = (await req.body()).toString()) }), rest: '', pattern: '*' }) };
  const gated = configPrimaryRouter(router, reading, null, true, { datacenter: 'dc1', primary: 'dc1' });
  await gated.match('PUT', '/v1/config')!.handler(put('/v1/config', { Kind: 'service-defaults', Name: 'web' }, 'dc2'));
  assert.equal(JSON.parse(seen).Kind, 'service-defaults');
  await gated.match('PUT', '/v1/config')!.handler(put('/v1/config', { Kind: 'exported-services', Name: 'default', Nope: 1 }, 'dc2'));
  assert.equal(JSON.parse(seen).Nope, 1);
});
