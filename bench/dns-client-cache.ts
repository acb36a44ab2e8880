// What dns_config.use_cache saves: `web.service.consul` A lookups (10 instances) asked of two
// client agents, one forwarding every question to the server (the default) and one answering
// from its cache, in alternating rounds. CPU per lookup is read from /proc for the client and the
// server process over each round (utime + stime), so a shared machine's noise weighs less than
// wall-clock rates would. All three agents are real `proconsul agent` processes.
// Usage: node bench/dns-client-cache.ts [lookups per round, default 20000] [rounds, default 3]
//   [distinct names, default 1: `web.service.consul`; N > 1 cycles web0…web<N-1>, so that
//   questions outstanding together differ and the forwarding client cannot share requests]
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dnsPacket from 'dns-packet';
import { freePort } from '../test/support/etcd.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
const lookups = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 3);
const names = Number(process.argv[4] ?? 1);
const CONCURRENCY = 16;
const service = (i: number): string => (names > 1 ? `web${i % names}` : 'web');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dns-client-cache-'));
const children: ChildProcess[] = [];
const TICKS = 100; // USER_HZ

function agent(args: string[]): ChildProcess {
  const c = spawn(process.execPath, [BIN, 'agent', ...args, '-log-level', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(c);
  return c;
}

/** CPU seconds (user + system) a process used so far. */
function cpu(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

/** Asks `n` lookups of `ip:port` with CONCURRENCY outstanding; resolves with the NOERROR count. */
function ask(ip: string, port: number, n: number): Promise<number> {
  const sock = dgram.createSocket('udp4');
  const query = (id: number) => dnsPacket.encode({ type: 'query', id: id & 0xffff, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: `${service(id)}.service.consul` }] });
  let sent = 0;
  let ok = 0;
  let done = 0;
  return new Promise((resolve) => {
    const next = () => {
      if (sent < n) sock.send(query(sent++), port, ip);
    };
    sock.on('message', (msg) => {
      if ((msg.readUInt16BE(2) & 0xf) === 0) ok++;
      if (++done === n) sock.close(() => resolve(ok));
      else next();
    });
    sock.bind(0, '127.0.0.1', () => { for (let i = 0; i < CONCURRENCY; i++) next(); });
  });
}

const [http, serf, wan, rpc, dns, chttp, cserf] = await Promise.all([1, 2, 3, 4, 5, 6, 7].map(() => freePort()));
const common = ['-grpc-port', '-1', '-serf-wan-port', String(wan), '-server-port', String(rpc), '-dns-port', String(dns)];
const server = agent(['-dev', '-node', 's1', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-http-port', String(http), '-serf-lan-port', String(serf), ...common]);
const clients: Record<string, { ip: string; proc: ChildProcess }> = {};
for (const [name, ip, cache] of [['forwarding', '127.0.0.4', false], ['cached', '127.0.0.5', true]] as const) {
  const cfg = path.join(dir, `${name}.json`);
  fs.writeFileSync(cfg, JSON.stringify({ dns_config: { use_cache: cache } }));
  clients[name] = {
    ip, proc: agent(['-node', name, '-bind', ip, '-client', ip, '-http-port', String(chttp), '-serf-lan-port', String(cserf), ...common,
      '-data-dir', path.join(dir, name), '-config-file', cfg, '-retry-join', `127.0.0.1:${serf}`, '-retry-interval', '1s']),
  };
}
try {
  const deadline = Date.now() + 30_000;
  while (!(await fetch(`http://127.0.0.1:${http}/v1/status/leader`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the server');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (let j = 0; j < names; j++) {
    for (let i = 0; i < 10; i++) {
      await fetch(`http://127.0.0.1:${http}/v1/catalog/register`, {
        method: 'PUT', body: JSON.stringify({ Node: `n${i}`, Address: `10.0.0.${i + 1}`, Service: { ID: service(j), Service: service(j), Port: 80 } }),
      });
    }
  }
  const ready = Date.now() + 30_000;
  for (const c of Object.values(clients)) {
    while ((await ask(c.ip, dns, 1)) !== 1) {
      if (Date.now() > ready) throw new Error(`timed out waiting for ${c.ip}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const rows: string[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [name, c] of Object.entries(clients)) {
      const [c0, s0, t0] = [cpu(c.proc.pid!), cpu(server.pid!), performance.now()];
      const ok = await ask(c.ip, dns, lookups);
      const [c1, s1, t1] = [cpu(c.proc.pid!), cpu(server.pid!), performance.now()];
      const us = (x: number) => ((x * 1e6) / lookups).toFixed(1);
      rows.push(`| ${r + 1} | ${name} | ${ok}/${lookups} | ${us(c1 - c0)} | ${us(s1 - s0)} | ${us(c1 - c0 + s1 - s0)} | ${((lookups / (t1 - t0)) * 1000).toFixed(0)} |`);
    }
  }
  process.stdout.write(`${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${lookups} lookups per round, ${CONCURRENCY} outstanding, ${names} distinct name(s)\n\n`
    + '| round | client | NOERROR | client CPU µs/lookup | server CPU µs/lookup | total µs/lookup | lookups/s |\n|---|---|---|---|---|---|---|\n'
    + `${rows.join('\n')}\n`);
} finally {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
