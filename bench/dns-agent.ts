// Child process of bench/dns.ts: an in-process dev agent with DNS on 127.0.0.1:0 and
// `services` × `instances` registered through the catalog endpoint; prints the DNS port.
import { startDevAgent } from '../test/support/agent.ts';

const [services, instances] = process.argv.slice(2).map(Number);
const dev = await startDevAgent({ config: { dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } });
for (let s = 0; s < services; s++) {
  for (let i = 0; i < instances; i++) {
    const ip = `10.${Math.floor(s / 250)}.${s % 250}.${i + 1}`;
    await dev.agent.endpoints.catalog.register({ Node: `n${s}-${i}`, Address: ip, Service: { ID: `svc${s}-${i}`, Service: `svc${s}`, Port: 8000 + i } } as never);
  }
}
process.stdout.write(`${dev.agent.dnsAddresses().udp[0].split(':').pop()}\n`);
process.on('SIGTERM', () => void dev.stop().then(() => process.exit(0)));
