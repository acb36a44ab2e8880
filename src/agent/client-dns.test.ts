// A client agent's DNS under load, without sockets: a stand-in forwarder counts the server
// requests. Questions wait on the servers through a bounded queue: at most maxInFlight requests
// at once, identical questions share one request (each reply under its own ID), past the bound
// the oldest waiting questions are answered SERVFAIL, and a question older than 2 s is dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { ManualClock } from '../clock.ts';
import { dnsConfigFrom } from '../dns/index.ts';
import { silentLogger } from '../log.ts';
import { devConfig } from '../../test/support/agent.ts';
import { remoteDnsHandler } from './client-dns.ts';
import type { ForwardRequest, ForwardResponse, Forwarder } from './forward.ts';
import { DNS_AGENT_HEADER, DNS_SOURCE_HEADER } from './rpc-server.ts';

/** A server that answers only when the test says so. */
function stubServer() {
  const requests: { req: ForwardRequest; answer: () => void; fail: (e: Error) => void }[] = [];
  let inFlight = 0;
  let peak = 0;
  const forwarder = {
    send: (_s: unknown, req: ForwardRequest) => new Promise<ForwardResponse>((resolve, reject) => {
      peak = Math.max(peak, ++inFlight);
      const done = () => { inFlight--; };
      const q = dnsPacket.decode(req.body!);
      const answer = () => {
        done();
        const body = dnsPacket.encode({
          type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: q.questions,
          answers: [{ type: 'A', name: q.questions![0].name, ttl: 0, data: '10.0.0.1' }],
        });
        resolve({ status: 200, headers: {}, body, server: 's1' });
      };
      const fail = (e: Error) => { done(); reject(e); };
      req.signal?.addEventListener('abort', { handleEvent: () => fail(Object.assign(new Error('aborted'), { name: 'AbortError' })) });
      requests.push({ req, answer, fail });
    }),
  } as unknown as Forwarder;
  return { forwarder, requests, peak: () => peak };
}

const cfg = dnsConfigFrom(devConfig());
const query = (id: number, name: string): Buffer => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
const tick = () => new Promise((r) => setImmediate(r));

function client(server: ReturnType<typeof stubServer>, clock = new ManualClock(), queue = { maxInFlight: 8, maxQuestions: 32 }) {
  return remoteDnsHandler({
    forwarder: server.forwarder, servers: { servers: () => ['127.0.0.1:8300'] }, cfg, token: () => '', logger: silentLogger(), clock, queue,
  });
}

test('a flood of distinct questions: at most maxInFlight server requests; past the bound the oldest are SERVFAIL', async () => {
  const server = stubServer();
  const h = client(server);
  const replies: (Buffer | null | 'pending')[] = [];
  for (let i = 0; i < 200; i++) {
    replies.push('pending');
    void h.handle(query(i, `s${i}.service.consul`), 'udp', '127.0.0.9').then((r) => { replies[i] = r; });
  }
  await tick();
  assert.equal(server.peak(), 8, 'at most 8 requests at once, not 200');
  assert.equal(server.requests.filter((r) => !r.req.signal?.aborted).length, 8);
  assert.ok(server.requests.length < 200);
  const shed = replies.filter((r) => r !== 'pending');
  assert.equal(shed.length, 200 - 32, 'everything past the 32 waiting questions was shed');
  for (const r of shed) assert.equal((r as Buffer).readUInt16BE(2) & 0xf, 2, 'SERVFAIL');
  // The oldest were shed (requests nobody waits for aborted): the newest 32 still wait.
  assert.deepEqual(replies.map((r, i) => (r === 'pending' ? i : -1)).filter((i) => i >= 0), [...Array(32).keys()].map((i) => 168 + i));
  assert.ok(server.requests.slice(0, 8).every((r) => r.req.signal?.aborted), 'the first requests were aborted');
  const asked = server.requests.filter((r) => !r.req.signal?.aborted).map((r) => dnsPacket.decode(r.req.body!).id!);
  assert.ok(asked.every((id) => id >= 168), `running: questions still waiting (${asked.join(',')})`);
  h.close();
});

test('identical questions asked at once share one server request; each reply carries its own ID', async () => {
  const server = stubServer();
  const h = client(server);
  const ps = [1, 2, 3, 4, 5].map((id) => h.handle(query(id, 'web.service.consul'), 'udp', '127.0.0.9'));
  await tick();
  assert.equal(server.requests.length, 1);
  server.requests[0].answer();
  const replies = (await Promise.all(ps)).map((r) => dnsPacket.decode(r!));
  assert.deepEqual(replies.map((r) => r.id), [1, 2, 3, 4, 5]);
  assert.ok(replies.every((r) => (r.answers?.[0] as { data?: unknown } | undefined)?.data === '10.0.0.1'));
  // Another transport is another question (truncation differs).
  void h.handle(query(6, 'web.service.consul'), 'tcp');
  await tick();
  assert.equal(server.requests.length, 2);
  h.close();
});

test('a question unanswered after 2 s is dropped, not answered late, and its request aborted', async () => {
  const clock = new ManualClock();
  const server = stubServer();
  const h = client(server, clock);
  let reply: Buffer | null | 'pending' = 'pending';
  void h.handle(query(1, 'web.service.consul'), 'udp', '127.0.0.9').then((r) => { reply = r; });
  await tick();
  clock.advance(1999);
  await tick();
  assert.equal(reply, 'pending');
  clock.advance(1);
  await tick();
  assert.equal(reply, null, 'nothing is sent');
  assert.ok(server.requests[0].req.signal?.aborted);
  h.close();
});

test('prepared-query questions tell the server who asked, and askers from different places do not share', async () => {
  const server = stubServer();
  const h = client(server);
  const a = h.handle(query(1, 'geo.query.consul'), 'udp', '::ffff:127.0.0.7');
  const b = h.handle(query(2, 'geo.query.consul'), 'udp', '127.0.0.8');
  const c = h.handle(query(3, 'geo.query.consul'), 'udp', '127.0.0.8');
  await tick();
  assert.deepEqual(server.requests.map((r) => r.req.headers[DNS_SOURCE_HEADER]), ['127.0.0.7', '127.0.0.8']);
  server.requests.forEach((r) => r.answer());
  assert.deepEqual((await Promise.all([a, b, c])).map((r) => dnsPacket.decode(r!).id), [1, 2, 3]);
  // Service questions do not depend on the asker.
  void h.handle(query(4, 'web.service.consul'), 'udp', '127.0.0.7');
  await tick();
  assert.equal(server.requests.at(-1)!.req.headers[DNS_SOURCE_HEADER], undefined);
  h.close();
});

/** A use_cache client whose stand-in server answers at once (X-Consul-Index 5; watches never return). */
function cachedClient() {
  const fills: ForwardRequest[] = [];
  const forwarder = {
    send: (_s: unknown, req: ForwardRequest) => {
      if (req.method === 'GET') return new Promise<ForwardResponse>(() => {});
      fills.push(req);
      const q = dnsPacket.decode(req.body!);
      const name = q.questions![0].name;
      const ns = /\.(ns|peer|sg|ap)\./.test(name) && !name.includes('.default.');
      const data = req.headers[DNS_SOURCE_HEADER] ?? '10.0.0.1';
      const body = dnsPacket.encode({
        type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER | (ns ? 3 : 0), questions: q.questions,
        answers: ns ? [] : [{ type: 'A', name, ttl: 0, data }],
      });
      return Promise.resolve({ status: 200, headers: { 'X-Consul-Index': '5' }, body, server: 's1' });
    },
  } as unknown as Forwarder;
  const h = remoteDnsHandler({
    forwarder, servers: { servers: () => ['127.0.0.1:8300'] }, cfg: { ...cfg, useCache: true }, token: () => '', logger: silentLogger(), clock: new ManualClock(),
  });
  return { h, fills };
}

const withSubnet = (id: number, name: string, ip: string): Buffer => dnsPacket.encode({
  type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }],
  additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, options: [{ code: 'CLIENT_SUBNET', ip, sourcePrefixLength: 32 }] } as never],
});
const firstA = (r: Buffer | null): string | undefined => (dnsPacket.decode(r!).answers?.find((a) => a.type === 'A') as { data?: string } | undefined)?.data;

test('use_cache: a prepared query is cached per address it runs near (client subnet, else the asker)', async () => {
  const { h, fills } = cachedClient();
  assert.equal(firstA(await h.handle(withSubnet(1, 'geo.query.consul', '10.0.9.3'), 'udp', '127.0.0.9')), '10.0.9.3');
  assert.equal(firstA(await h.handle(withSubnet(2, 'geo.query.consul', '10.0.9.1'), 'udp', '127.0.0.9')), '10.0.9.1', 'not the answer for 10.0.9.3');
  assert.equal(firstA(await h.handle(query(3, 'geo.query.consul'), 'udp', '127.0.0.9')), '127.0.0.9', 'no subnet: the asker\'s address');
  assert.equal(firstA(await h.handle(withSubnet(4, 'geo.query.consul', '10.0.9.3'), 'udp', '127.0.0.8')), '10.0.9.3');
  assert.equal(fills.length, 3, 'the fourth came from the cache');
  h.close();
});

test('use_cache: namespace, partition, peer and sameness-group lookups are cached under their own names', async () => {
  const { h, fills } = cachedClient();
  const names = ['web.service.consul', 'web.service.default.ns.consul', 'web.service.ns1.ns.consul', 'web.service.p1.peer.consul', 'web.service.sg1.sg.consul', 'web.service.p1.ap.consul'];
  for (const round of [1, 2]) {
    for (const [i, name] of names.entries()) {
      const r = dnsPacket.decode((await h.handle(query(i, name), 'udp', '127.0.0.9'))!);
      assert.equal(r.answers?.[0]?.name ?? 'NXDOMAIN', names.indexOf(name) < 2 ? name : 'NXDOMAIN', `${name}, round ${round}`);
    }
  }
  assert.equal(fills.length, names.length, 'each asked once, then answered from the cache');
  h.close();
});

test('SERVFAIL made here (no server answered, or the question shed) echoes the EDNS0 OPT, subnet scope 0, with AA as Consul writes it', async () => {
  const server = stubServer();
  const h = client(server, new ManualClock(), { maxInFlight: 1, maxQuestions: 1 });
  const edns = (id: number, name: string): Buffer => dnsPacket.encode({
    type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, options: [{ code: 'CLIENT_SUBNET', ip: '10.1.2.0', sourcePrefixLength: 24 }] } as never],
  });
  const check = (raw: Buffer | null, what: string): void => {
    const r = dnsPacket.decode(raw!);
    assert.equal(raw!.readUInt16BE(2) & 0xf, 2, `${what}: SERVFAIL`);
    assert.ok(r.flags! & dnsPacket.AUTHORITATIVE_ANSWER, `${what}: AA`);
    const opt = r.additionals?.find((a) => a.type === 'OPT');
    assert.ok(opt && opt.type === 'OPT', `${what}: the OPT is echoed`);
    assert.equal(opt.udpPayloadSize, 4096);
    const ecs = opt.options?.[0] as unknown as { ip: string; sourcePrefixLength: number; scopePrefixLength: number };
    assert.deepEqual([ecs.ip, ecs.sourcePrefixLength, ecs.scopePrefixLength], ['10.1.2.0', 24, 0], `${what}: subnet echoed, valid everywhere`);
  };
  const failed = h.handle(edns(1, 'web.service.consul'), 'udp', '127.0.0.9');
  await tick();
  server.requests[0].fail(new Error('No known Consul servers'));
  check(await failed, 'server failed');
  const first = h.handle(edns(2, 'a.service.consul'), 'udp', '127.0.0.9');
  const second = h.handle(edns(3, 'b.service.consul'), 'udp', '127.0.0.9');
  check(await first, 'shed');
  await tick();
  server.requests.at(-1)!.answer();
  assert.equal(dnsPacket.decode((await second)!).answers?.length, 1);
  h.close();
});

test('questions to the servers name this agent, so a prepared query near _agent sorts by this node, not the server\'s', async () => {
  const server = stubServer();
  const h = remoteDnsHandler({
    forwarder: server.forwarder, servers: { servers: () => ['127.0.0.1:8300'] }, nodeName: 'client-7', cfg, token: () => '', logger: silentLogger(), clock: new ManualClock(),
  });
  const p = h.handle(query(1, 'webq.query.consul'), 'udp', '127.0.0.9');
  await tick();
  assert.equal(server.requests[0].req.headers[DNS_AGENT_HEADER], 'client-7');
  assert.equal(server.requests[0].req.headers[DNS_SOURCE_HEADER], '127.0.0.9');
  server.requests[0].answer();
  await p;
  h.close();
});
