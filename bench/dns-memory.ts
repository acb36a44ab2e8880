// Memory of the DNS prepared answers: an in-process dev agent with `services` × `instances`
// registered through the catalog endpoint; after a full GC, the heap is read before and after one
// SRV (then one A) query per service over UDP, so each delta is what that type's prepared entries
// hold. Usage: node --expose-gc bench/dns-memory.ts [services=1000] [instances=10] [a-first]
import dgram from 'node:dgram';
import v8 from 'node:v8';
import dnsPacket from 'dns-packet';
import { startDevAgent } from '../test/support/agent.ts';

const services = Number(process.argv[2] ?? 1000);
const instances = Number(process.argv[3] ?? 10);
const gc = (globalThis as { gc?: (o?: object) => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const dev = await startDevAgent({ config: { dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } });
for (let s = 0; s < services; s++) {
  for (let i = 0; i < instances; i++) {
    const ip = `10.${Math.floor(s / 250)}.${s % 250}.${i + 1}`;
    await dev.agent.endpoints.catalog.register({ Node: `n${s}-${i}`, Address: ip, Service: { ID: `svc${s}-${i}`, Service: `svc${s}`, Port: 8000 + i } } as never);
  }
}
const port = Number(dev.agent.dnsAddresses().udp[0].split(':').pop());
const sock = dgram.createSocket('udp4');
await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));

/** One query per service, `window` outstanding; checks every reply has all answers. */
async function queryAll(type: 'A' | 'SRV'): Promise<void> {
  let next = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const send = (): void => {
      if (next >= services) return;
      const s = next++;
      const q = dnsPacket.encode({ id: s & 0xffff, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name: `svc${s}.service.consul` }],
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as never] });
      sock.send(q, port, '127.0.0.1');
    };
    sock.on('message', (m) => {
      const r = dnsPacket.decode(m);
      if ((r.answers ?? []).length !== instances) reject(new Error(`short reply: ${r.answers?.length}`));
      if (++done === services) resolve();
      else send();
    });
    for (let i = 0; i < 16; i++) send();
  });
  sock.removeAllListeners('message');
}

function heap(): { used: number; buffers: number } {
  for (let i = 0; i < 3; i++) gc!({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  const m = process.memoryUsage();
  return { used: v8.getHeapStatistics().used_heap_size, buffers: m.arrayBuffers };
}
const mb = (n: number): string => (n / 1e6 * 1000 / services).toFixed(2);
console.log(`${services} services × ${instances} instances; per 1,000 services, MB (V8 heap + array buffers):`);
// The first type queried also pays for the view's per-service caches: `a-first` swaps the order.
for (const type of process.argv[4] === 'a-first' ? ['A', 'SRV'] as const : ['SRV', 'A'] as const) {
  const before = heap();
  await queryAll(type);
  const after = heap();
  console.log(`${type} entries: ${mb(after.used - before.used)} + ${mb(after.buffers - before.buffers)}`);
}
sock.close();
await dev.stop();
process.exit(0);
