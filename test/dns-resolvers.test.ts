// Real resolvers against the agent's DNS interface: dnsmasq forwarding `*.consul` to it
// (`server=/consul/127.0.0.1#<port>`) answers `dig` with our instances, and HAProxy's
// `server-template` with a `resolvers` section discovers instances by SRV, following
// registrations, deregistrations and critical checks (observed through its runtime API).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { dig } from './support/dns.ts';
import { freePort } from './support/ports.ts';

let dev: DevAgent;
let dnsPort: number;
const children: ChildProcess[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dns-resolvers-'));

/** Fails with the Debian package to install when a binary is missing. */
function requireBinary(bin: string, versionFlag: string, pkg: string): void {
  const r = spawnSync(bin, [versionFlag], { encoding: 'utf8' });
  if (r.error) assert.fail(`${bin} is not installed (Debian package ${pkg}; .ci/run installs it): ${r.error.message}`);
}


/** Starts a foreground child; its output is kept for failure messages. */
function run(bin: string, args: string[]): { proc: ChildProcess; output: () => string } {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  children.push(proc);
  return { proc, output: () => out };
}

/** Polls `probe` until it returns true or `ms` pass; the message names what was awaited. */
async function eventually(what: string, probe: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function register(node: string, ip: string, port: number, status?: 'passing' | 'critical'): Promise<void> {
  const check = status ? { Check: { CheckID: `chk-${node}`, Name: 'alive', ServiceID: `web-${node}`, Status: status } } : {};
  await dev.agent.endpoints.catalog.register({ Node: node, Address: ip, Service: { ID: `web-${node}`, Service: 'web', Port: port }, ...check } as never);
}

before(async () => {
  dev = await startDevAgent({ config: { dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } });
  dnsPort = Number(dev.agent.dnsAddresses().udp[0].split(':').pop());
  await register('a', '10.10.0.1', 8001, 'passing');
  await register('b', '10.10.0.2', 8002, 'passing');
});
after(async () => {
  for (const c of children) c.kill('SIGTERM');
  await dev?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('dnsmasq forwarding the consul domain', () => {
  let port: number;
  before(async () => {
    requireBinary('dnsmasq', '--version', 'dnsmasq-base');
    port = await freePort();
    const dm = run('dnsmasq', [
      '--no-daemon', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--cache-size=0', '--pid-file=',
      '--listen-address=127.0.0.1', '--bind-interfaces', `--port=${port}`, `--server=/consul/127.0.0.1#${dnsPort}`,
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ]);
    await eventually(`dnsmasq on port ${port} (${dm.output()})`, async () => (await dig(port, 'web.service.consul', 'A')).status === 'NOERROR');
  });

  test('dig @dnsmasq web.service.consul returns our instances (A and SRV)', async () => {
    const a = await dig(port, 'web.service.consul', 'A');
    assert.deepEqual(a.answer.map((r) => r[4]).sort(), ['10.10.0.1', '10.10.0.2']);
    const srv = await dig(port, '_web._tcp.service.consul', 'SRV');
    assert.deepEqual(srv.answer.map((r) => `${r[7]}:${r[6]}`).sort(), ['a.node.dc1.consul.:8001', 'b.node.dc1.consul.:8002']);
  });

  test('an instance whose check goes critical disappears through dnsmasq; NXDOMAIN passes through', async () => {
    await register('c', '10.10.0.3', 8003, 'passing');
    await eventually('c through dnsmasq', async () => (await dig(port, 'web.service.consul', 'A')).answer.some((r) => r[4] === '10.10.0.3'));
    await register('c', '10.10.0.3', 8003, 'critical');
    const a = await dig(port, 'web.service.consul', 'A');
    assert.deepEqual(a.answer.map((r) => r[4]).sort(), ['10.10.0.1', '10.10.0.2']);
    await dev.agent.endpoints.catalog.deregister({ Node: 'c' } as never);
    assert.equal((await dig(port, 'nothing.service.consul', 'A')).status, 'NXDOMAIN');
  });
});

/** `addr:port` of every HAProxy server slot that DNS filled and that is not in maintenance. */
async function haproxyServers(socket: string): Promise<string[]> {
  const text = await new Promise<string>((resolve, reject) => {
    const c = net.connect(socket);
    let out = '';
    c.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('end', () => resolve(out));
    c.write('show servers state web\n');
  });
  // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ... srv_port (19th).
  // Slots without a DNS answer are in resolution maintenance (admin bit 0x20) with address `-`.
  const rows = text.split('\n').filter((l) => /^\d+ web /.test(l)).map((l) => l.split(' '));
  return rows.filter((f) => (Number(f[6]) & 0x20) === 0 && f[4] !== '0.0.0.0' && f[4] !== '-').map((f) => `${f[4]}:${f[18]}`).sort();
}

describe('HAProxy server-template discovering by SRV', () => {
  let socket: string;
  before(async () => {
    requireBinary('haproxy', '-v', 'haproxy');
    socket = path.join(tmp, 'haproxy.sock');
    const cfg = path.join(tmp, 'haproxy.cfg');
    fs.writeFileSync(cfg, [
      'global', `  stats socket ${socket} mode 600 level admin`,
      'defaults', '  mode tcp', '  timeout connect 1s', '  timeout client 1s', '  timeout server 1s',
      'resolvers consul', `  nameserver proconsul 127.0.0.1:${dnsPort}`, '  accepted_payload_size 8192',
      '  resolve_retries 3', '  timeout resolve 200ms', '  timeout retry 200ms',
      '  hold valid 200ms', '  hold obsolete 0s', '  hold nx 200ms', '  hold other 200ms', '  hold refused 200ms', '  hold timeout 200ms',
      `frontend fe`, `  bind 127.0.0.1:${await freePort()}`, '  default_backend web',
      'backend web', '  server-template web 6 _web._tcp.service.consul resolvers consul init-addr none', '',
    ].join('\n'));
    const check = spawnSync('haproxy', ['-c', '-f', cfg], { encoding: 'utf8' });
    assert.equal(check.status, 0, `haproxy rejected its configuration: ${check.stdout}${check.stderr}`);
    const hp = run('haproxy', ['-db', '-f', cfg]);
    await eventually(`haproxy's runtime API (${hp.output()})`, async () => Array.isArray(await haproxyServers(socket)));
  });

  const sees = (want: string[]): Promise<void> =>
    eventually(`HAProxy servers ${want.join(',')}`, async () => (await haproxyServers(socket)).join() === want.join());

  test('instances appear as they register', async () => {
    await sees(['10.10.0.1:8001', '10.10.0.2:8002']);
    await register('d', '10.10.0.4', 8004, 'passing');
    await sees(['10.10.0.1:8001', '10.10.0.2:8002', '10.10.0.4:8004']);
  });

  test('an instance disappears when its check goes critical and comes back when it passes', async () => {
    await register('d', '10.10.0.4', 8004, 'critical');
    await sees(['10.10.0.1:8001', '10.10.0.2:8002']);
    await register('d', '10.10.0.4', 8004, 'passing');
    await sees(['10.10.0.1:8001', '10.10.0.2:8002', '10.10.0.4:8004']);
  });

  test('an instance disappears as it deregisters', async () => {
    await dev.agent.endpoints.catalog.deregister({ Node: 'd' } as never);
    await sees(['10.10.0.1:8001', '10.10.0.2:8002']);
  });
});
