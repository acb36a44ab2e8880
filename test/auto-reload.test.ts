// A `proconsul agent` process with auto_reload_config: editing its config directory changes what
// the agent serves (services, log_level) without a signal, and an invalid edit is logged while the
// agent keeps running on the configuration it had. Renewed TLS files are picked up the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { loadConfig } from '../src/agent/config/index.ts';
import type { RuntimeConfig } from '../src/index.ts';
import { devConfig, startDevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { testCA } from './support/tls-cert.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('auto_reload_config: a service file added to the config dir is registered; an invalid edit keeps the running config', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-autoreload-'));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'agent.json'), JSON.stringify({
    auto_reload_config: true, log_level: 'info',
    ports: { http: port, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort(), server: await freePort() },
  }));
  let out = '';
  const child: ChildProcess = spawn(process.execPath, [BIN, 'agent', '-dev', '-node', 'ar', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-config-dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const services = async (): Promise<Record<string, { Port: number }> | undefined> => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/agent/services`);
      return res.ok ? await res.json() as Record<string, { Port: number }> : undefined;
    } catch {
      return undefined;
    }
  };
  try {
    await until('the agent', async () => (await services()) !== undefined);
    assert.doesNotMatch(out, /auto_reload_config.*not implemented/);
    fs.writeFileSync(path.join(dir, 'web.json'), JSON.stringify({ service: { name: 'web', port: 80 } }));
    await until('web registered without a signal', async () => (await services())?.web?.Port === 80);

    fs.writeFileSync(path.join(dir, 'broken.hcl'), 'service { name = ');
    await until('the load error in the log', () => /error loading config/.test(out));
    assert.equal(child.exitCode, null, 'the agent keeps running');
    assert.equal((await services())?.web?.Port, 80, 'the running configuration stays');

    fs.rmSync(path.join(dir, 'broken.hcl'));
    fs.writeFileSync(path.join(dir, 'web.json'), JSON.stringify({ services: [{ name: 'web', port: 81 }, { name: 'api', port: 82 }] }));
    await until('the fixed configuration applied', async () => {
      const s = await services();
      return s?.web?.Port === 81 && s?.api?.Port === 82;
    });
    fs.rmSync(path.join(dir, 'web.json'));
    await until('the services gone with their file', async () => {
      const s = await services();
      return s !== undefined && !s.web && !s.api;
    });

    // log_level is reloadable: once debug applies, the next reload's trigger line is logged.
    assert.doesNotMatch(out, /\[DEBUG\]/);
    fs.writeFileSync(path.join(dir, 'log.json'), JSON.stringify({ log_level: 'debug' }));
    let n = 0;
    await until('debug lines after the level reload', () => {
      if (n++ % 50 === 0) fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ node_meta: { n: String(n) } }));
      return /\[DEBUG\] auto-reload config triggered: num-events=/.test(out);
    });
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('auto_reload_config: a renewed HTTPS key pair is served without a reload request', { timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-autoreload-tls-'));
  const ca = await testCA('Auto-reload CA');
  const first = await ca.issue('server.dc1.consul', 'server');
  const renewed = await ca.issue('server.dc1.consul', 'server');
  const cert = path.join(dir, 'agent.pem');
  const key = path.join(dir, 'agent-key.pem');
  fs.writeFileSync(cert, first.cert);
  fs.writeFileSync(key, first.key);
  const port = await freePort();
  const tls = (await loadConfig({ args: ['-dev', '-hcl', `tls { defaults { cert_file = "${cert}" key_file = "${key}" } }`] })).config.tls;
  const config: Partial<RuntimeConfig> = {
    autoReloadConfig: true, tls, ports: { http: 0, https: port, dns: -1, grpc: -1, grpcTls: -1, serfLan: 8301, serfWan: 8302, server: 8300 },
    httpsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port }],
  };
  // The configuration read again is the same one: only the files behind it changed.
  const dev = await startDevAgent({ config, deps: { reloadConfig: async () => devConfig(config) } });
  const presented = () => new Promise<string>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/v1/status/leader', agent: false, ca: ca.cert }, (res) => {
      resolve((res.socket as TLSSocket).getPeerCertificate().serialNumber);
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
  try {
    assert.equal(await presented(), new X509Certificate(first.cert).serialNumber);
    fs.writeFileSync(cert, renewed.cert);
    fs.writeFileSync(key, renewed.key);
    const want = new X509Certificate(renewed.cert).serialNumber;
    await until('the renewed certificate', async () => (await presented()) === want);
  } finally {
    await dev.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
