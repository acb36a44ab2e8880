// Syslog output as Consul's: RFC 3164 local datagrams with facility and severity mapping,
// received on a unix datagram socket the test binds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DgramSocket } from 'node-unix-socket';
import { goStamp, Syslog, syslogMessage } from './log-syslog.ts';

function receiver(): { path: string; got: string[]; close(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-syslog-'));
  const p = path.join(dir, 'log.sock');
  const sock = new DgramSocket();
  const got: string[] = [];
  sock.on('data', (b: Buffer) => got.push(b.toString('utf8')));
  sock.bind(p);
  return { path: p, got, close: () => { sock.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
}

test('each line goes as <PRI>Jan _2 15:04:05 consul[pid]: message, severity from its level', async () => {
  const r = receiver();
  const now = new Date(2026, 0, 5, 7, 8, 9);
  const log = await Syslog.open({ facility: 'local3', paths: ['/nonexistent/log', r.path], pid: 4242, now: () => now });
  try {
    log.write('2026-01-05T07:08:09.000Z [INFO]  agent: started: node=n1\n');
    log.write('2026-01-05T07:08:09.000Z [ERROR] agent.http: failed\n');
    log.write('2026-01-05T07:08:09.000Z [DEBUG] agent: x\n');
    log.write('2026-01-05T07:08:09.000Z [TRACE] agent: y\n');
    log.write('2026-01-05T07:08:09.000Z [WARN]  agent: z\n');
    log.write('no level here');
    await until(() => r.got.length === 6);
    // local3 is 19: 19*8 = 152, plus notice 5, err 3, info 6, debug 7, warning 4.
    assert.deepEqual(r.got, [
      '<157>Jan  5 07:08:09 consul[4242]: agent: started: node=n1\n',
      '<155>Jan  5 07:08:09 consul[4242]: agent.http: failed\n',
      '<158>Jan  5 07:08:09 consul[4242]: agent: x\n',
      '<159>Jan  5 07:08:09 consul[4242]: agent: y\n',
      '<156>Jan  5 07:08:09 consul[4242]: agent: z\n',
      '<157>Jan  5 07:08:09 consul[4242]: no level here\n',
    ]);
  } finally {
    log.close();
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

test('the wrapper\'s parse and Go\'s time.Stamp', () => {
  assert.deepEqual(syslogMessage('t [CRIT] boom\n'), { severity: 2, message: 'boom\n' });
  assert.deepEqual(syslogMessage('t [BOGUS] x'), { severity: 5, message: 'x' });
  assert.equal(goStamp(new Date(2026, 10, 26, 23, 59, 1)), 'Nov 26 23:59:01');
});
