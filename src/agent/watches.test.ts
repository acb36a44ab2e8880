// Agent watch handler plumbing: output kept as Consul's 4 KiB circular buffer, and
// http_handler_config's timeout read as Go's http.Client reads it (zero: none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import type net from 'node:net';
import { TailBuffer, runHttpHandler } from './watches.ts';
import { silentLogger } from '../log.ts';

test('a handler printing without end holds only the last 4 KiB, reported as Consul reports a truncation', () => {
  const b = new TailBuffer();
  const chunk = 'x'.repeat(1000);
  for (let i = 0; i < 10_000; i++) b.write(chunk);
  b.write('END');
  assert.ok(b.kept <= 4096 + 1000, `kept ${b.kept}`);
  const s = b.toString();
  assert.ok(s.startsWith('Captured 4096 of 10000003 bytes\n...\n'));
  assert.ok(s.endsWith('xEND'));
  assert.equal(s.length, 'Captured 4096 of 10000003 bytes\n...\n'.length + 4096);
});

test('short output is kept whole', () => {
  const b = new TailBuffer();
  b.write('a');
  b.write(Buffer.from('b'));
  assert.equal(b.toString(), 'ab');
});

test('an http handler with timeout 0 waits for the answer (Go: no timeout)', async () => {
  let got = '';
  const srv = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => { got += c.toString(); });
    req.on('end', () => setTimeout(() => res.end('ok'), 20));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const errors: unknown[] = [];
  const log = silentLogger();
  const spy = Object.assign(Object.create(log) as typeof log, { error: (o: unknown) => { errors.push(o); } });
  try {
    const url = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}/hook`;
    await runHttpHandler({ path: url, method: 'POST', header: {}, timeoutMs: 0, tlsSkipVerify: false }, 5n, { a: 1 }, spy);
    assert.deepEqual(errors, []);
    assert.equal(got, '{"a":1}\n');
  } finally {
    srv.close();
  }
});

test('stopping the watches lets a running script handler go: it no longer keeps the agent process alive', () => {
  const mod = new URL('./watches.ts', import.meta.url).href;
  const logMod = new URL('../log.ts', import.meta.url).href;
  const code = `const { HandlerProcesses, runScript } = await import(${JSON.stringify(mod)});
const { silentLogger } = await import(${JSON.stringify(logMod)});
const procs = new HandlerProcesses();
const add = procs.add.bind(procs);
procs.add = (c) => { add(c); process.stdout.write(c.pid + '\\n'); setImmediate(() => procs.release()); };
void runScript({ args: ['sleep', '60'], shell: false }, 1n, {}, silentLogger(), process.env, procs);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  const pid = Number(r.stdout.trim());
  try {
    assert.equal(r.signal, null, 'the process was held open by the handler');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(pid > 0);
  } finally {
    if (pid > 0) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});
