// Questions a server passes to another datacenter, under load and without sockets: a stand-in
// forwarder holds every request. At most maxInFlight requests run at once, identical questions
// share one (each reply under its own ID), the oldest past the bound are SERVFAIL, and a question
// unanswered after 2 s is dropped with its request aborted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { ManualClock } from '../clock.ts';
import { UpstreamQueue } from '../dns/index.ts';
import { silentLogger } from '../log.ts';
import { datacenterDnsHandler } from './dc-dns.ts';
import { DNS_AGENT_DATACENTER_HEADER, DNS_AGENT_HEADER, DNS_SOURCE_HEADER } from './rpc-server.ts';
import type { ForwardRequest, ForwardResponse, Forwarder } from './forward.ts';

function setup(clock = new ManualClock()) {
  const requests: { req: ForwardRequest; answer: () => void }[] = [];
  let inFlight = 0;
  let peak = 0;
  const forwarder = {
    send: (_s: unknown, req: ForwardRequest) => new Promise<ForwardResponse>((resolve, reject) => {
      peak = Math.max(peak, ++inFlight);
      const q = dnsPacket.decode(req.body!);
      req.signal?.addEventListener('abort', { handleEvent: () => { inFlight--; reject(new Error('aborted')); } });
      requests.push({
        req,
        answer: () => {
          inFlight--;
          const body = dnsPacket.encode({ type: 'response', id: q.id, flags: 0, questions: q.questions, answers: [{ type: 'A', name: q.questions![0].name, ttl: 0, data: '10.9.0.1' }] });
          resolve({ status: 200, headers: {}, body, server: 'dc2-s1' });
        },
      });
    }),
  } as unknown as Forwarder;
  const local = { answerNow: () => undefined, handle: async () => Buffer.from('local') };
  const h = datacenterDnsHandler(local, () => '', {
    datacenter: 'dc1', nodeName: 's1', domain: 'consul.', altDomain: '', logger: silentLogger(), forwarder,
    routes: { rpcAddresses: (dc: string) => (dc === 'dc2' ? ['127.0.0.2:8300'] : []), hasRemoteDatacenters: () => true },
    queue: new UpstreamQueue({ maxInFlight: 4, maxQuestions: 16, maxWaitMs: 2000, clock }),
  });
  return { h, requests, peak: () => peak, clock };
}

const query = (id: number, name: string): Buffer => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
const tick = () => new Promise((r) => setImmediate(r));

test('a flood for another datacenter: at most maxInFlight requests there; the oldest past the bound SERVFAIL', async () => {
  const { h, requests, peak } = setup();
  const out: (Buffer | null | 'pending')[] = [];
  for (let i = 0; i < 100; i++) {
    out.push('pending');
    void h.handle(query(i, `s${i}.service.dc2.consul`), 'udp', '').then((r) => { out[i] = r; });
  }
  await tick();
  assert.equal(peak(), 4, 'at most 4 requests at once, not 100');
  assert.equal(out.filter((r) => r === 'pending').length, 16);
  assert.ok(out.slice(0, 84).every((r) => r !== 'pending' && r !== null && (r.readUInt16BE(2) & 0xf) === 2), 'the oldest 84 SERVFAIL');
  const live = requests.filter((r) => !r.req.signal?.aborted);
  assert.equal(live.length, 4);
  live.forEach((r) => r.answer());
  await tick();
  assert.equal(out.filter((r) => r !== 'pending' && r !== null && (r.readUInt16BE(2) & 0xf) === 0).length, 4);
});

test('identical questions for another datacenter share one request, each reply under its own ID; after 2 s they are dropped', async () => {
  const { h, requests, clock } = setup();
  const ps = [1, 2, 3].map((id) => h.handle(query(id, 'web.service.dc2.consul'), 'udp', ''));
  await tick();
  assert.equal(requests.length, 1);
  requests[0].answer();
  assert.deepEqual((await Promise.all(ps)).map((r) => dnsPacket.decode(r!).id), [1, 2, 3]);
  const late = h.handle(query(4, 'db.service.dc2.consul'), 'udp', '');
  await tick();
  clock.advance(2000);
  assert.equal(await late, null, 'not answered late');
  assert.ok(requests[1].req.signal?.aborted);
  // Questions for this datacenter never queue.
  assert.deepEqual(await h.handle(query(5, 'web.service.consul'), 'udp', ''), Buffer.from('local'));
});

test('a question for another datacenter carries the asker\'s IP, the asking agent (a client\'s, else this one) and its datacenter, as Consul forwards Agent and Source', async () => {
  const { h, requests } = setup();
  const asked = (i: number): Record<string, string> => {
    const hs = requests[i].req.headers;
    return { agent: hs[DNS_AGENT_HEADER], dc: hs[DNS_AGENT_DATACENTER_HEADER], source: hs[DNS_SOURCE_HEADER] };
  };
  const viaClient = h.handle(query(1, 'webq.query.dc2.consul'), 'udp', '10.0.0.5', 'client-7');
  await tick();
  assert.deepEqual(asked(0), { agent: 'client-7', dc: 'dc1', source: '10.0.0.5' });
  requests[0].answer();
  await viaClient;
  const own = h.handle(query(2, 'dbq.query.dc2.consul'), 'udp', '::ffff:10.0.0.6');
  await tick();
  assert.deepEqual(asked(1), { agent: 's1', dc: 'dc1', source: '::ffff:10.0.0.6' });
  requests[1].answer();
  await own;
  // Without an asker's address (a question this agent asks itself) no source goes.
  const none = h.handle(query(3, 'web.service.dc2.consul'), 'tcp', '');
  await tick();
  assert.deepEqual(asked(2), { agent: 's1', dc: 'dc1', source: undefined });
  requests[2].answer();
  await none;
});
