import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../../log.ts';
import { listen, splice } from './listener.ts';

test('splicing onto a side that already closed closes the other side too (no leaked dial)', () => {
  const closed = new net.Socket();
  closed.destroy();
  const dialled = new net.Socket();
  splice(closed, dialled, silentLogger());
  assert.equal(dialled.destroyed, true);
});

test('a bound listener that fails later (an accept error) logs it instead of ending the process', async () => {
  const server = net.createServer();
  await listen(server, '127.0.0.1', 0, silentLogger());
  try {
    assert.doesNotThrow(() => server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' })));
  } finally {
    await new Promise((r) => server.close(r));
  }
});
