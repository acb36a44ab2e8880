// CPU per query of the DNS handler alone (no sockets, the main thread's CPU time): an in-process dev agent with 1,000 services
// × 10 instances, then `rounds` rounds of 100,000 pre-encoded A and SRV queries (EDNS0 4096, random
// service) through `answerNow` (the prepared path); prints the median µs per query of each type.
// EDNS=0 sends the queries without EDNS0: SRV replies are then cut to udp_answer_limit (truncate.ts).
// Usage: [EDNS=0] node bench/dns-handler.ts [rounds=6]
import dnsPacket from 'dns-packet';
import { startDevAgent } from '../test/support/agent.ts';

const SERVICES = 1000;
const INSTANCES = 10;
const PER_ROUND = 100_000;
const rounds = Number(process.argv[2] ?? 6);
const dev = await startDevAgent({ config: { dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } });
for (let s = 0; s < SERVICES; s++) {
  for (let i = 0; i < INSTANCES; i++) {
    const ip = `10.${Math.floor(s / 250)}.${s % 250}.${i + 1}`;
    await dev.agent.endpoints.catalog.register({ Node: `n${s}-${i}`, Address: ip, Service: { ID: `svc${s}-${i}`, Service: `svc${s}`, Port: 8000 + i } } as never);
  }
}
const handler = await dev.agent.dnsHandler();
const opt = process.env.EDNS === '0' ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as never];
const queries = (type: 'A' | 'SRV'): Buffer[] => Array.from({ length: SERVICES }, (_, s) => dnsPacket.encode({
  id: s, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name: `svc${s}.service.consul` }], additionals: opt,
}));
const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** The main thread's user + system CPU time in µs. */
const cpu = (): number => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};
const out: string[] = [];
for (const type of ['A', 'SRV'] as const) {
  const qs = queries(type);
  for (const q of qs) if (!handler.answerNow(q, 'udp')) throw new Error(`${type} not answered by the prepared path`);
  const times: number[] = [];
  let bytes = 0;
  for (let r = 0; r < rounds; r++) {
    // The main thread's CPU time, not wall time: a shared machine's other load does not count.
    const t = cpu();
    for (let i = 0; i < PER_ROUND; i++) bytes += handler.answerNow(qs[(Math.random() * SERVICES) | 0], 'udp')!.length;
    times.push((cpu() - t) / PER_ROUND);
  }
  out.push(`${type} ${median(times).toFixed(2)} µs (${(bytes / rounds / PER_ROUND).toFixed(0)}-byte replies)`);
}
console.log(`handler CPU per query, median of ${rounds} × ${PER_ROUND.toLocaleString('en')}: ${out.join(', ')}`);
await dev.stop();
process.exit(0);
