// The agent as users and test harnesses start it: a real `proconsul agent` process with
// Consul's flags and a JSON config file, polled on /v1/status/leader, stopped by a signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './support/ports.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');


async function waitForLeader(base: string, child: ChildProcess): Promise<string> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${base}/v1/status/leader`);
      const leader = (await res.json()) as string;
      if (leader) return leader;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no leader');
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

test('harness-style start: -server -bootstrap with a data dir, JSON config ports, pid file; SIGTERM stops it cleanly and data survives a restart', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-agent-'));
  const port = await freePort();
  const cfg = path.join(dir, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ ports: { http: port, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort(), server: await freePort() } }));
  const args = ['agent', '-node', 'n1', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-bootstrap', '-server',
    '-config-file', cfg, '-data-dir', path.join(dir, 'data'), '-pid-file', path.join(dir, 'agent.pid')];
  const base = `http://127.0.0.1:${port}`;
  try {
    let child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(await waitForLeader(base, child), /^127\.0\.0\.1:\d+$/);
    assert.equal(fs.readFileSync(path.join(dir, 'agent.pid'), 'utf8'), String(child.pid));
    assert.equal(await (await fetch(`${base}/v1/kv/durable`, { method: 'PUT', body: 'yes' })).text(), 'true');
    const self = (await (await fetch(`${base}/v1/agent/self`)).json()) as { Config: { NodeName: string; Server: boolean; Datacenter: string; PrimaryDatacenter: string } };
    assert.equal(self.Config.NodeName, 'n1');
    assert.equal(self.Config.Server, true);
    // primary_datacenter unset: the agent's own datacenter, as Consul reports it.
    assert.deepEqual([self.Config.Datacenter, self.Config.PrimaryDatacenter], ['dc1', 'dc1']);

    const t0 = Date.now();
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
    assert.ok(Date.now() - t0 < 5000, 'stopped within a few seconds');
    assert.equal(fs.existsSync(path.join(dir, 'agent.pid')), false);

    child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForLeader(base, child);
    assert.equal(await (await fetch(`${base}/v1/kv/durable?raw`)).text(), 'yes');
    child.kill('SIGINT');
    assert.equal(await exited(child), 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad config key stops the agent with Consul\'s error and exit code 1', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-agent-'));
  const cfg = path.join(dir, 'bad.json');
  fs.writeFileSync(cfg, JSON.stringify({ not_a_key: true }));
  const child = spawn(process.execPath, [BIN, 'agent', '-dev', '-config-file', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  assert.equal(await exited(child), 1);
  assert.match(err, /invalid config key not_a_key/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('PUT /v1/agent/leave ends the agent process cleanly', async () => {
  const port = await freePort();
  // Every port its own: a -dev agent's defaults (8300–8302, 8502, 8503) may be held by another agent on the machine.
  const ports = ['-serf-lan-port', '-serf-wan-port', '-server-port'];
  const own = (await Promise.all(ports.map(async (f) => [f, String(await freePort())]))).flat();
  // leave_drain_time 1 s: the -dev server's wait after leaving the pool (default 5 s).
  const drain = ['-hcl', 'performance { leave_drain_time = "1s" }'];
  const child = spawn(process.execPath, [BIN, 'agent', '-dev', '-http-port', String(port), '-dns-port', '-1', '-grpc-port', '-1', '-grpc-tls-port', '-1', ...own, ...drain], { stdio: ['ignore', 'pipe', 'pipe'] });
  const base = `http://127.0.0.1:${port}`;
  await waitForLeader(base, child);
  const res = await fetch(`${base}/v1/agent/leave`, { method: 'PUT' });
  assert.equal(res.status, 200);
  assert.equal(await exited(child), 0);
});

test('-log-file: the agent\'s lines also go to consul.log in the directory', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-logfile-'));
  const port = await freePort();
  const args = ['agent', '-dev', '-node', 'lf', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-http-port', String(port), '-dns-port', '-1',
    '-grpc-port', '-1', '-grpc-tls-port', '-1', '-serf-lan-port', String(await freePort()), '-serf-wan-port', String(await freePort()),
    '-server-port', String(await freePort()), '-log-file', `${dir}/`];
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitForLeader(`http://127.0.0.1:${port}`, child);
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
    assert.match(fs.readFileSync(path.join(dir, 'consul.log'), 'utf8'), /\[INFO\] {2}agent\.endpoint: initialized built-in CA root/);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
