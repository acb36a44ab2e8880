// A client agent's DNS under a flood, over real sockets: the client's DNS listeners and handler
// with its real forwarder, in front of a stand-in server RPC listener on loopback that holds every
// question until the test releases it. 2,000 distinct UDP questions reach the servers as at most
// 256 requests at once (the rest wait: fewer than the 4,096 that would be shed), 500 identical
// ones as one request, and Node's resolver gets its answer.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { DnsServer, dnsConfigFrom } from '../src/dns/index.ts';
import { Forwarder } from '../src/agent/forward.ts';
import { remoteDnsHandler } from '../src/agent/client-dns.ts';
import { silentLogger } from '../src/log.ts';
import { devConfig } from './support/agent.ts';
import { resolverFor } from './support/dns.ts';
import { until } from './support/wait.ts';

const held: { name: string; answer: () => void }[] = [];
let inFlight = 0;
let peak = 0;
let release = false;
let rpc: http.Server;
let dns: DnsServer;
let handler: ReturnType<typeof remoteDnsHandler>;
let port = 0;

before(async () => {
  rpc = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      peak = Math.max(peak, ++inFlight);
      const q = dnsPacket.decode(Buffer.concat(chunks));
      let done = false;
      const answer = (): void => {
        if (done) return;
        done = true;
        inFlight--;
        const body = dnsPacket.encode({
          type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: q.questions,
          answers: [{ type: 'A', name: q.questions![0].name, ttl: 0, data: '10.1.2.3' }],
        });
        res.writeHead(200, { 'content-type': 'application/dns-message' }).end(body);
      };
      res.on('close', () => { if (!done) { done = true; inFlight--; } });
      if (release) answer();
      else held.push({ name: q.questions![0].name, answer });
    });
  });
  await new Promise<void>((r) => rpc.listen(0, '127.0.0.1', r));
  const server = `127.0.0.1:${(rpc.address() as AddressInfo).port}`;
  handler = remoteDnsHandler({
    forwarder: new Forwarder({ logger: silentLogger() }), servers: { servers: () => [server] },
    cfg: dnsConfigFrom(devConfig()), token: () => '', logger: silentLogger(),
    // Expiry is unit-tested (client-dns.test.ts); on a loaded machine 2,000 answers can take longer than 2 s.
    queue: { maxWaitMs: 60_000 },
  });
  dns = new DnsServer({ handler, logger: silentLogger() });
  await dns.listen([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  port = Number(dns.addresses().udp[0].split(':')[1]);
});

after(async () => {
  handler?.close();
  await dns?.close();
  rpc?.closeAllConnections();
  await new Promise((r) => rpc?.close(r));
});

function flood(names: string[]): Promise<Map<number, number>> {
  // Room for every reply at once: the default receive buffer holds about 256 small datagrams.
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  const rcodes = new Map<number, number>();
  sock.on('message', (m) => rcodes.set(m.readUInt16BE(0), m.readUInt16BE(2) & 0xf));
  names.forEach((name, id) => sock.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), port, '127.0.0.1'));
  const deadline = Date.now() + 10_000;
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (rcodes.size < names.length && Date.now() < deadline) return;
      clearInterval(check);
      sock.close();
      resolve(rcodes);
    }, 20);
  });
}

test('2,000 distinct questions at once: at most 256 requests to the servers, every question answered once they answer', async () => {
  const replies = flood(Array.from({ length: 2000 }, (_, i) => `s${i}.service.consul`));
  await until('the first 256 requests to reach the server', 10_000, async () => held.length >= 256);
  // Give the rest every chance to pile up on the server if nothing held them back.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(peak, 256, 'the servers saw at most 256 questions at once');
  release = true;
  for (const h of held.splice(0)) h.answer();
  const rcodes = await replies;
  assert.equal(rcodes.size, 2000, `replies: ${rcodes.size}, peak ${peak}, held ${held.length}`);
  assert.equal([...rcodes.values()].filter((r) => r === 0).length, 2000, 'all answered NOERROR');
  assert.ok(peak <= 256);
});

test('500 identical questions at once: one request to the servers; Node\'s resolver gets the answer', async () => {
  release = false;
  peak = 0;
  const before = held.length;
  const replies = flood(Array.from({ length: 500 }, () => 'web.service.consul'));
  await until('the request to reach the server', 10_000, async () => held.length > before);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(held.length - before, 1);
  release = true;
  for (const h of held.splice(0)) h.answer();
  assert.equal((await replies).size, 500);
  assert.deepEqual(await resolverFor(port).resolve4('db.service.consul'), ['10.1.2.3']);
});
