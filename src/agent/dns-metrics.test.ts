// Which questions the DNS timers cover: Consul times the names its domain handler (domain and
// alt domain: dns.domain_query) and reverse handler (arpa.: dns.ptr_query) serve, not those its
// recursion handler forwards or that no handler takes (refused).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { dnsMetrics } from './dns-metrics.ts';
import { DnsServer, questionUnder, wireName } from '../dns/server.ts';
import { silentLogger } from '../log.ts';

const q = (name: string, type: 'A' | 'PTR' = 'A') => dnsPacket.encode({ type: 'query', id: 1, questions: [{ type, name }] });
const fakeTelemetry = () => ({ batchedTimer: () => ({ add() {} }) as never, counter: () => () => {} });

test('questionUnder: the name or a name under it, any case; not a name merely ending in the same letters', () => {
  const consul = wireName('consul.');
  assert.equal(questionUnder(q('web.service.consul'), consul), true);
  assert.equal(questionUnder(q('WEB.Service.CONSUL'), consul), true);
  assert.equal(questionUnder(q('consul'), consul), true);
  assert.equal(questionUnder(q('web.service.notconsul'), consul), false);
  assert.equal(questionUnder(q('example.com'), consul), false);
  assert.equal(questionUnder(q('a.b.example.com'), wireName('example.com.')), true);
  assert.equal(questionUnder(q('web.service.consul').subarray(0, 20), consul), false);
  assert.equal(questionUnder(Buffer.alloc(4), consul), false);
});

test('untimed: names outside the domain, alt domain and arpa.', () => {
  const m = dnsMetrics(fakeTelemetry(), 'n1', ['consul.', 'alt.example.']);
  assert.equal(m.untimed(q('web.service.consul')), false);
  assert.equal(m.untimed(q('web.service.alt.example')), false);
  assert.equal(m.untimed(q('1.0.0.10.in-addr.arpa', 'PTR')), false);
  assert.equal(m.untimed(q('www.example.com')), true);
  assert.equal(dnsMetrics(fakeTelemetry(), 'n1', ['consul.', '']).untimed(q('www.example.com')), true);
});

test('the listener times a question it awaited in the domain, not one outside it (recursed or refused)', async () => {
  const m = dnsMetrics(fakeTelemetry(), 'n1', ['consul.', '']);
  const timed: boolean[] = [];
  const reply = (msg: Buffer) => { const out = Buffer.from(msg); out[2] |= 0x80; return out; };
  const server = new DnsServer({
    handler: { answerNow: () => undefined, handle: async (msg: Buffer) => reply(msg) }, logger: silentLogger(),
    timed: (ptr) => timed.push(ptr), untimed: m.untimed,
  });
  await server.listen([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  const port = Number(server.addresses().udp[0].split(':').pop());
  const sock = dgram.createSocket('udp4');
  try {
    for (const [name, type] of [['www.example.com', 'A'], ['web.service.consul', 'A'], ['1.0.0.10.in-addr.arpa', 'PTR']] as const) {
      const got = new Promise((r) => sock.once('message', r));
      sock.send(q(name, type), port, '127.0.0.1');
      await got;
    }
    assert.deepEqual(timed, [false, true]);
  } finally {
    sock.close();
    await server.close();
  }
});
