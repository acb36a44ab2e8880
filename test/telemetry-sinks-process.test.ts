// A `proconsul agent` process with an HCL telemetry block, as users configure statsd: the lines
// reach a UDP listener, and a SIGHUP reload of prefix_filter changes what is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { freePort } from './support/ports.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function telemetryHcl(statsd: string, rules: string[]): string {
  return `telemetry {\n  statsd_address = "${statsd}"\n  prefix_filter = [${rules.map((r) => `"${r}"`).join(', ')}]\n}\n`;
}

test('statsd from an HCL config file; SIGHUP reloads prefix_filter', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-telemetry-'));
  const collector = dgram.createSocket('udp4');
  collector.bind(0, '127.0.0.1');
  await once(collector, 'listening');
  const lines: string[] = [];
  collector.on('message', (m) => lines.push(...m.toString().split('\n').filter(Boolean)));
  const statsd = `127.0.0.1:${collector.address().port}`;
  const port = await freePort();
  const ports = path.join(dir, 'ports.json');
  fs.writeFileSync(ports, JSON.stringify({ ports: { http: port, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort(), server: await freePort() } }));
  const hcl = path.join(dir, 'telemetry.hcl');
  fs.writeFileSync(hcl, telemetryHcl(statsd, ['-consul.api']));
  const child: ChildProcess = spawn(process.execPath, [BIN, 'agent', '-dev', '-node', 'tel', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-config-file', ports, '-config-file', hcl], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  const put = async (k: string): Promise<boolean> => {
    try {
      return (await fetch(`${base}/v1/kv/${k}`, { method: 'PUT', body: 'v' })).ok;
    } catch {
      return false;
    }
  };
  try {
    await until('the agent', () => put('first'));
    await until('the KV timer', () => lines.some((l) => /^consul\.kvs\.apply:\d+\.\d{6}\|ms$/.test(l)));
    const host = `consul.${os.hostname()}.runtime.alloc_bytes:`;
    await until('a hostname-prefixed gauge', () => lines.some((l) => l.startsWith(host)));
    assert.ok(!lines.some((l) => l.startsWith('consul.api.')), 'consul.api is blocked');
    fs.writeFileSync(hcl, telemetryHcl(statsd, ['-consul.kvs']));
    child.kill('SIGHUP');
    let n = 0;
    await until('the HTTP timer after the reload', async () => {
      await put(`after${n++}`);
      return lines.some((l) => /^consul\.api\.http\.PUT\.v1_kv_:\d+\.\d{6}\|ms$/.test(l));
    });
    const mark = lines.length;
    await put('last');
    await until('the last HTTP timer', () => lines.slice(mark).some((l) => l.startsWith('consul.api.http.PUT')));
    assert.ok(!lines.slice(mark).some((l) => l.startsWith('consul.kvs.')), 'consul.kvs is blocked after the reload');
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    collector.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
