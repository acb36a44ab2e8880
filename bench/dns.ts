// DNS benchmark: A and SRV lookups (UDP, EDNS0 4096) against Proconsul and dnsmasq serving the
// same 1,000 services × 10 instances (dnsmasq host-record/srv-host and unbound local-data, static), from one
// load generator in this process; prints qps, p50 and p99 and the Proconsul/C-server ratios.
// Usage: node bench/dns.ts [seconds=3] [concurrency=32]
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import dnsPacket from 'dns-packet';

const SERVICES = 1000;
const INSTANCES = 10;
const seconds = Number(process.argv[2] ?? 3);
const concurrency = Number(process.argv[3] ?? 32);
const ip = (s: number, i: number): string => `10.${Math.floor(s / 250)}.${s % 250}.${i + 1}`;

async function startProconsul(): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [path.join(import.meta.dirname, 'dns-agent.ts'), String(SERVICES), String(INSTANCES)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(proc.stdout!, 'data');
  return { port: Number(String(line).trim()), proc };
}

async function startDnsmasq(port: number): Promise<ChildProcess> {
  const lines: string[] = [];
  for (let s = 0; s < SERVICES; s++) {
    for (let i = 0; i < INSTANCES; i++) {
      lines.push(`host-record=svc${s}.service.consul,${ip(s, i)}`, `host-record=n${s}-${i}.node.dc1.consul,${ip(s, i)}`);
      lines.push(`srv-host=svc${s}.service.consul,n${s}-${i}.node.dc1.consul,${8000 + i},1,1`);
    }
  }
  const conf = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dnsmasq-')), 'dnsmasq.conf');
  fs.writeFileSync(conf, `${lines.join('\n')}\n`);
  const proc = spawn('dnsmasq', ['-k', '-C', conf, '-p', String(port), '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--cache-size=0', '--user=root'], { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, 1500));
  return proc;
}

/** Runs a closed loop of `concurrency` outstanding queries for `seconds`; returns qps and latency percentiles (ms). */
async function load(port: number, type: 'A' | 'SRV'): Promise<{ qps: number; p50: number; p99: number; errors: number }> {
  const sock = dgram.createSocket('udp4');
  const started = new Map<number, bigint>();
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const send = (): void => {
    const id = next++ & 0xffff;
    const name = `svc${Math.floor(Math.random() * SERVICES)}.service.consul`;
    const opt = { type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
    started.set(id, process.hrtime.bigint());
    sock.send(dnsPacket.encode({ type: 'query', id, questions: [{ type, name }], additionals: [opt as never] }), port, '127.0.0.1');
  };
  await new Promise<void>((resolve) => {
    let outstanding = 0;
    sock.on('message', (msg) => {
      const id = msg.readUInt16BE(0);
      const t0 = started.get(id);
      if (t0 === undefined) return;
      started.delete(id);
      if ((msg.readUInt16BE(2) & 0xf) !== 0 || msg.readUInt16BE(6) < INSTANCES) errors++;
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      outstanding--;
      if (Date.now() < end) { outstanding++; send(); } else if (outstanding === 0) resolve();
    });
    for (let i = 0; i < concurrency; i++) { outstanding++; send(); }
  });
  sock.close();
  lat.sort((a, b) => a - b);
  return { qps: Math.round(lat.length / seconds), p50: lat[Math.floor(lat.length * 0.5)], p99: lat[Math.floor(lat.length * 0.99)], errors };
}

async function startUnbound(port: number): Promise<ChildProcess> {
  const lines = ['server:', '  interface: 127.0.0.1', `  port: ${port}`, '  do-daemonize: no', '  username: ""', '  chroot: ""',
    '  directory: ""', '  pidfile: ""', '  use-syslog: no', '  num-threads: 1', '  do-ip6: no', '  local-zone: "consul." static'];
  for (let s = 0; s < SERVICES; s++) {
    for (let i = 0; i < INSTANCES; i++) {
      lines.push(`  local-data: "svc${s}.service.consul. 0 IN A ${ip(s, i)}"`, `  local-data: "n${s}-${i}.node.dc1.consul. 0 IN A ${ip(s, i)}"`);
      lines.push(`  local-data: "svc${s}.service.consul. 0 IN SRV 1 1 ${8000 + i} n${s}-${i}.node.dc1.consul."`);
    }
  }
  const conf = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'unbound-')), 'unbound.conf');
  fs.writeFileSync(conf, `${lines.join('\n')}\n`);
  const proc = spawn('unbound', ['-d', '-c', conf], { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, 2500));
  return proc;
}

const pc = await startProconsul();
const ub = await startUnbound(pc.port + 2);
const dm = await startDnsmasq(pc.port + 1);
const rows: string[] = [];
for (const type of ['A', 'SRV'] as const) {
  const a = await load(pc.port, type);
  const b = await load(pc.port + 1, type);
  const c = await load(pc.port + 2, type);
  const row = (name: string, r: typeof a): string => `| ${type} | ${name} | ${r.qps.toLocaleString('en')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`;
  rows.push(row('proconsul', a), row('dnsmasq', b), row('unbound', c));
  rows.push(`| ${type} | ratio proconsul/dnsmasq ${(a.qps / b.qps).toFixed(2)}, proconsul/unbound ${(a.qps / c.qps).toFixed(2)} | | | | |`);
}
console.log(`${SERVICES} services × ${INSTANCES} instances, UDP+EDNS0 4096, ${concurrency} outstanding, ${seconds}s per row, ${os.cpus().length} cores ${os.cpus()[0].model}`);
console.log('| type | server | qps | p50 ms | p99 ms | short/err replies |\n|---|---|---:|---:|---:|---:|');
console.log(rows.join('\n'));
pc.proc.kill('SIGTERM');
dm.kill('SIGTERM');
ub.kill('SIGTERM');
