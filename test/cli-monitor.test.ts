// `proconsul monitor` as a real process against a real `proconsul agent -dev` process: text and
// -log-json lines, exit 0 on SIGINT, Consul's "Remote side ended" text and exit 1 when the agent
// leaves, and "Error starting monitor" for a level the agent refuses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCliCaptured } from './support/cli.ts';
import { freePort } from './support/ports.ts';
import { killAll, spawnProconsul } from './support/procs.ts';
import { until } from './support/wait.ts';

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

/** A monitor process with its stdout and stderr kept apart. */
function spawnMonitor(args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const child = spawnProconsul(['monitor', ...args], () => {});
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  return { child, out: () => out, err: () => err };
}

test('monitor streams the agent log until SIGINT (exit 0) or until the agent leaves (exit 1, Consul\'s text)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-monitor-'));
  const http = await freePort();
  const cfg = path.join(dir, 'ports.json');
  // leave_drain_time 1 s: the -dev server's wait after leaving the pool (default 5 s).
  fs.writeFileSync(cfg, JSON.stringify({
    ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort(), server: await freePort() },
    performance: { leave_drain_time: '1s' },
  }));
  let log = '';
  const agent = spawnProconsul(['agent', '-dev', '-node', 'watched', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-config-file', cfg], (t) => { log += t; });
  const addr = `-http-addr=127.0.0.1:${http}`;
  const monitors: ChildProcess[] = [];
  try {
    await until(`agent up (${log})`, 30_000, async () => (await fetch(`http://127.0.0.1:${http}/v1/status/leader`).then((r) => r.json()).catch(() => '')) || false);

    const refused = await runCliCaptured(['monitor', '-log-level=bogus', addr], {});
    assert.deepEqual(refused, { code: 1, out: '', err: 'Error starting monitor: Unexpected response code: 400 (Unknown log level: bogus)\n' });

    // Interrupted: exit 0, nothing about the remote side.
    const quiet = spawnMonitor(['-log-level=debug', addr]);
    monitors.push(quiet.child);
    await attached(http, [quiet]);
    quiet.child.kill('SIGINT');
    assert.equal(await exited(quiet.child), 0, quiet.err());
    assert.doesNotMatch(quiet.out(), /Remote side ended/);

    const text = spawnMonitor([addr]);
    const json = spawnMonitor(['-log-json', addr]);
    monitors.push(text.child, json.child);
    await attached(http, [text, json]);
    assert.equal((await runCliCaptured(['leave'], { CONSUL_HTTP_ADDR: `127.0.0.1:${http}` })).code, 0);
    assert.equal(await exited(text.child), 1, text.err());
    assert.equal(await exited(json.child), 1, json.err());
    assert.equal(await exited(agent), 0);

    const tail = '\nRemote side ended the monitor! This usually means that the\nremote side has exited or crashed.\n';
    for (const m of [text, json]) assert.ok(m.out().endsWith(tail), m.out());
    const textLines = text.out().slice(0, -tail.length).split('\n').filter(Boolean);
    assert.ok(textLines.some((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z \[INFO\]  agent\.gossip: Gracefully leaving the LAN pool$/.test(l)), text.out());
    const jsonLines = json.out().slice(0, -tail.length).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    assert.ok(jsonLines.some((r) => r['@level'] === 'info' && r['@module'] === 'agent.gossip' && r['@message'] === 'Gracefully leaving the LAN pool'), json.out());
  } finally {
    killAll([agent, ...monitors]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Toggles node maintenance (an info log line) until every monitor has printed it: then they are attached. */
async function attached(http: number, monitors: { out(): string }[]): Promise<void> {
  await until('monitors attached', 20_000, async () => {
    await fetch(`http://127.0.0.1:${http}/v1/agent/maintenance?enable=true`, { method: 'PUT' });
    await fetch(`http://127.0.0.1:${http}/v1/agent/maintenance?enable=false`, { method: 'PUT' });
    return monitors.every((m) => m.out().includes('Node entered maintenance mode'));
  }, { every: 200 });
}
