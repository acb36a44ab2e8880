// A client agent in-process, with no server known: agent-local routes answer, every other route
// is a forward that fails as Consul's client does ("No known Consul servers", 500), and DNS
// questions it cannot pass on are answered SERVFAIL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { createClientAgent, type ClientAgent } from '../src/index.ts';
import { silentLogger } from '../src/log.ts';
import { remoteDnsHandler } from '../src/agent/client-dns.ts';
import { Forwarder } from '../src/agent/forward.ts';
import { dnsConfigFrom } from '../src/dns/index.ts';
import { devConfig } from './support/agent.ts';

let agent: ClientAgent;

before(async () => {
  agent = createClientAgent(devConfig({ server: false, bootstrap: false, nodeName: 'lonely' }), { logger: silentLogger() });
  await agent.start();
});

after(() => agent.stop());

test('agent routes are answered by the client itself', async () => {
  const self = await agent.http.handle({ method: 'GET', url: '/v1/agent/self' });
  assert.equal(self.status, 200);
  const body = self.json() as { Config: { Server: boolean; NodeName: string }; Stats: Record<string, Record<string, string>> };
  assert.equal(body.Config.Server, false);
  assert.equal(body.Config.NodeName, 'lonely');
  assert.deepEqual(body.Stats.consul, { acl: 'disabled', known_servers: '0', server: 'false' });
  assert.equal(body.Stats.raft, undefined);
  const reg = await agent.http.handle({ method: 'PUT', url: '/v1/agent/service/register', body: JSON.stringify({ Name: 'web', Port: 80 }) });
  assert.equal(reg.status, 200);
  assert.deepEqual(Object.keys((await agent.http.handle({ method: 'GET', url: '/v1/agent/services' })).json() as object), ['web']);
  const members = (await agent.http.handle({ method: 'GET', url: '/v1/agent/members' })).json() as { Name: string }[];
  assert.deepEqual(members.map((m) => m.Name), ['lonely']);
});

test('every other route is forwarded, and without a known server fails with Consul client text', async () => {
  for (const [method, url] of [['GET', '/v1/kv/a'], ['PUT', '/v1/session/create'], ['GET', '/v1/catalog/services'], ['GET', '/v1/status/leader'], ['GET', '/v1/agent/connect/ca/roots']]) {
    const r = await agent.http.handle({ method, url });
    assert.equal(r.status, 500, `${method} ${url}`);
    assert.equal(r.body.toString(), 'No known Consul servers');
  }
  // The route table is the servers': unknown paths and wrong methods are answered locally.
  assert.equal((await agent.http.handle({ method: 'GET', url: '/v1/nope' })).status, 404);
  assert.equal((await agent.http.handle({ method: 'POST', url: '/v1/kv/a' })).status, 405);
});

test('DNS questions that reach no server are answered SERVFAIL', async () => {
  const forwarder = new Forwarder({ logger: silentLogger() });
  const handler = remoteDnsHandler({ forwarder, servers: { servers: () => [] }, cfg: dnsConfigFrom(devConfig()), token: () => '', logger: silentLogger() });
  const q = dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'web.service.consul' }] });
  const reply = dnsPacket.decode((await handler.handle(q, 'udp'))!);
  assert.equal(reply.id, 7);
  assert.equal((reply.flags ?? 0) & 0x0f, 2, 'RCODE SERVFAIL');
  assert.deepEqual(reply.questions, [{ type: 'A', name: 'web.service.consul', class: 'IN' }]);
  forwarder.close();
});
