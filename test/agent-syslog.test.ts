// enable_syslog end to end: a real `proconsul agent` process with syslog_facility sends its log
// lines to a unix socket the test listens on (PROCONSUL_SYSLOG_SOCKET; a stream socket, which the
// agent's `logger` falls back to), in Consul's form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { freePort } from './support/ports.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');

test('agent log lines reach syslog with the configured facility', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-agent-syslog-'));
  const sockPath = path.join(dir, 'log.sock');
  let text = '';
  const sock = net.createServer((c) => c.on('data', (b: Buffer) => { text += b.toString('utf8'); }));
  await new Promise<void>((r) => sock.listen(sockPath, r));
  const got = { some: (f: (l: string) => boolean) => text.split('\n').some(f), find: (f: (l: string) => boolean) => text.split('\n').find(f), join: () => text };
  const cfg = path.join(dir, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({
    enable_syslog: true, syslog_facility: 'LOCAL4',
    ports: { http: await freePort(), dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort(), server: await freePort() },
  }));
  const child = spawn(process.execPath, [BIN, 'agent', '-node', 'n1', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-bootstrap', '-server',
    '-config-file', cfg, '-data-dir', path.join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PROCONSUL_SYSLOG_SOCKET: sockPath } });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    // The agent's start took about 1 s in CI runs here, and 7 s in a loaded one: allow 30 s, as the
    // other process tests do, rather than 400 polls (10 s).
    for (const end = Date.now() + 30_000; Date.now() < end && !got.some((l) => l.includes('agent started'));) await new Promise((r) => setTimeout(r, 25));
    const line = got.find((l) => l.includes('agent started'));
    assert.ok(line, `no 'agent started' line in syslog; stderr: ${stderr}; got: ${got.join()}`);
    // local4 (20) * 8 + notice (5) = 165; no hostname; the tag and the agent's pid.
    assert.match(line, new RegExp(`^<165>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d consul\\[${child.pid}\\]: agent: agent started: `));
    assert.doesNotMatch(stderr, /syslog/i);
  } finally {
    child.kill('SIGTERM');
    await exited;
    sock.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('enable_syslog with an unknown facility: the agent does not start', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-agent-syslog-'));
  try {
    const child = spawn(process.execPath, [BIN, 'agent', '-dev', '-syslog', '-hcl', 'syslog_facility = "nope"'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    assert.equal(code, 1);
    assert.match(stderr, /==> Syslog setup failed: invalid syslog facility: NOPE/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
