// `proconsul leave` against a real `proconsul agent -dev` process: Consul's output, the agent
// process exiting after it answered, and Consul's error text and exit 1 when no agent answers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCliCaptured } from './support/cli.ts';
import { freePort } from './support/ports.ts';
import { killAll, spawnProconsul } from './support/procs.ts';
import { until } from './support/wait.ts';

test('leave: "Graceful leave complete", and the agent process exits', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-leave-'));
  const http = await freePort();
  const cfg = path.join(dir, 'ports.json');
  // leave_drain_time 1 s: the -dev server's wait after leaving the pool (default 5 s).
  fs.writeFileSync(cfg, JSON.stringify({
    ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort(), server: await freePort() },
    performance: { leave_drain_time: '1s' },
  }));
  let log = '';
  const child = spawnProconsul(['agent', '-dev', '-node', 'leaver', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-config-file', cfg], (t) => { log += t; });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const env = { CONSUL_HTTP_ADDR: `127.0.0.1:${http}` };
    await until(`agent up (${log})`, 30_000, async () => (await fetch(`http://127.0.0.1:${http}/v1/status/leader`).then((r) => r.json()).catch(() => '')) || false);
    assert.deepEqual(await runCliCaptured(['leave'], env), { code: 0, out: 'Graceful leave complete\n', err: '' });
    assert.equal(await exited, 0, log);
    assert.match(log, /Graceful leave complete/);
    const again = await runCliCaptured(['leave'], env);
    assert.equal(again.code, 1);
    assert.equal(again.out, '');
    assert.match(again.err, /^Error leaving: .+\n$/);
  } finally {
    killAll([child]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('leave: extra arguments are refused with Consul\'s text and the usage', async () => {
  const r = await runCliCaptured(['leave', 'extra', 'args'], { CONSUL_HTTP_ADDR: '127.0.0.1:1' });
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Error found unexpected args: [extra args]\n');
  assert.match(r.out, /^Usage: proconsul leave \[options\]\n/);
});
