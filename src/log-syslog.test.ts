// Syslog output as Consul's: RFC 3164 local records with facility and severity mapping, through
// `logger`, received on a unix socket the test listens on (a stream socket: logger falls back to one
// when the path is not a datagram socket, and node:net has no datagram ones).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Syslog, syslogMessage } from './log-syslog.ts';

async function syslogReceiver(): Promise<{ path: string; lines(): string[]; close(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-syslog-'));
  const p = path.join(dir, 'log.sock');
  let text = '';
  const server = net.createServer((c) => c.on('data', (b: Buffer) => { text += b.toString('utf8'); }));
  await new Promise<void>((r) => server.listen(p, r));
  return {
    path: p,
    lines: () => text.split('\n').filter(Boolean),
    close: () => { server.close(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
}

test('each line goes as <PRI>Jan _2 15:04:05 consul[pid]: message, severity from its level', async () => {
  const r = await syslogReceiver();
  const log = await Syslog.open({ facility: 'local3', paths: ['/nonexistent/log', r.path], pid: 4242 });
  try {
    log.write('2026-01-05T07:08:09.000Z [INFO]  agent: started: node=n1\n');
    log.write('2026-01-05T07:08:09.000Z [ERROR] agent.http: failed\n');
    log.write('2026-01-05T07:08:09.000Z [DEBUG] agent: x\n');
    log.write('2026-01-05T07:08:09.000Z [TRACE] agent: y\n');
    log.write('2026-01-05T07:08:09.000Z [WARN]  agent: z\n');
    log.write('no level here');
    log.write('2026-01-05T07:08:09.000Z [ERROR] agent: two\nlines\n');
    await until(() => r.lines().length === 8);
    const stamp = '[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d';
    // local3 is 19: 19*8 = 152, plus notice 5, err 3, info 6, debug 7, warning 4.
    const want = ['<157>S consul[4242]: agent: started: node=n1', '<155>S consul[4242]: agent.http: failed', '<158>S consul[4242]: agent: x',
      '<159>S consul[4242]: agent: y', '<156>S consul[4242]: agent: z', '<157>S consul[4242]: no level here',
      '<155>S consul[4242]: agent: two', '<155>S consul[4242]: lines'];
    const got = r.lines();
    assert.equal(got.length, want.length, got.join('\n'));
    want.forEach((w, i) => {
      const [pri, rest] = [w.slice(0, 5), w.slice(7)];
      assert.match(got[i], new RegExp(`^${pri}${stamp} ${rest.replace(/[[\]]/g, (c) => `\\${c}`)}$`));
    });
  } finally {
    log.close();
    r.close();
  }
});

test('a logger that cannot run fails as setup does', async () => {
  const r = await syslogReceiver();
  try {
    await assert.rejects(Syslog.open({ facility: 'LOCAL0', paths: [r.path], program: '/nonexistent/logger' }), /^Error: Syslog setup failed: spawn \/nonexistent\/logger ENOENT$/);
  } finally {
    r.close();
  }
});

test('an unknown facility and a missing socket fail as Consul\'s setup does, after its retries', async () => {
  await assert.rejects(Syslog.open({ facility: 'local9', paths: [] }), { message: 'Syslog setup failed: invalid syslog facility: LOCAL9' });
  const waits: number[] = [];
  await assert.rejects(Syslog.open({ facility: 'LOCAL0', paths: ['/nonexistent/log'], sleep: async (ms) => void waits.push(ms) }),
    { message: 'Syslog setup failed: Unix syslog delivery error' });
  assert.deepEqual(waits, Array(12).fill(5000));
});

test('the wrapper\'s parse', () => {
  assert.deepEqual(syslogMessage('t [CRIT] boom\n'), { severity: 2, message: 'boom\n' });
  assert.deepEqual(syslogMessage('t [BOGUS] x'), { severity: 5, message: 'x' });
});
