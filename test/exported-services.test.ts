// GET /v1/exported-services against a real agent: exports resolved from the stored
// exported-services entry, a blocking read woken by a change to it, and mesh:read (or
// operator:read) under ACLs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent } from './support/agent.ts';
import { httpCaller, ROOT, startAclAgent, tokenWithRules } from './support/acl.ts';
import { runCliCaptured } from './support/cli.ts';

test('exports come from the exported-services entry, and a blocking read wakes on its change', async () => {
  const dev = await startDevAgent();
  try {
    const call = httpCaller(() => dev.httpAddr);
    const none = await call('GET', '/v1/exported-services');
    assert.equal(none.status, 200);
    assert.equal(none.text, '[]');
    const entry = (services: object[]) => ({ Kind: 'exported-services', Name: 'default', Services: services });
    const put = await call('PUT', '/v1/config', '', entry([
      { Name: 'web', Consumers: [{ Peer: 'west' }, { Peer: 'east' }] },
      { Name: 'db', Consumers: [{ Peer: 'east' }] },
    ]));
    assert.equal(put.status, 200, put.text);
    const first = await call('GET', '/v1/exported-services');
    assert.deepEqual(first.json, [
      { Service: 'db', Consumers: { Peers: ['east'] } },
      { Service: 'web', Consumers: { Peers: ['east', 'west'] } },
    ]);
    const index = Number(first.headers.get('x-consul-index'));
    assert.ok(index > 0);
    const waiting = call('GET', `/v1/exported-services?index=${index}&wait=30s`);
    assert.equal((await call('PUT', '/v1/config', '', entry([{ Name: 'db', Consumers: [{ Peer: 'north' }] }]))).status, 200);
    const woke = await waiting;
    assert.ok(Number(woke.headers.get('x-consul-index')) > index);
    assert.deepEqual(woke.json, [{ Service: 'db', Consumers: { Peers: ['north'] } }]);
    const env = { CONSUL_HTTP_ADDR: dev.httpAddr };
    const table = await runCliCaptured(['services', 'exported-services'], env);
    assert.equal(table.code, 0, table.err);
    assert.equal(table.out, 'Service  Consumer\ndb       Peer: north\n');
    const json = await runCliCaptured(['services', 'exported-services', '-format=json'], env);
    assert.deepEqual(JSON.parse(json.out), [{ Service: 'db', Consumers: { Peers: ['north'] } }]);
    assert.equal((await runCliCaptured(['services', 'exported-services', '-consumerPeer=south'], env)).out, 'No exported services found\n');
    assert.equal((await runCliCaptured(['services', 'exported-services', '-format=yaml'], env)).err, 'Invalid format, valid formats are {pretty|json}\n');
  } finally {
    await dev.stop();
  }
});

test('exported services need mesh:read; operator:read grants it too', async () => {
  const a = await startAclAgent();
  try {
    const call = httpCaller(() => a.httpAddr);
    const denied = await call('GET', '/v1/exported-services');
    assert.equal(denied.status, 403);
    assert.match(denied.text, /lacks permission 'mesh:read'$/);
    const svc = await tokenWithRules(call, 'service_prefix "" { policy = "write" }');
    assert.equal((await call('GET', '/v1/exported-services', svc.SecretID)).status, 403);
    for (const rules of ['mesh = "read"', 'operator = "read"']) {
      const t = await tokenWithRules(call, rules);
      assert.equal((await call('GET', '/v1/exported-services', t.SecretID)).status, 200, rules);
    }
    assert.equal((await call('GET', '/v1/exported-services', ROOT)).status, 200);
  } finally {
    await a.stop();
  }
});
