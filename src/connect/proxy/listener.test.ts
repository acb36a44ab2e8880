import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../../log.ts';
import { splice } from './listener.ts';

test('splicing onto a side that already closed closes the other side too (no leaked dial)', () => {
  const closed = new net.Socket();
  closed.destroy();
  const dialled = new net.Socket();
  splice(closed, dialled, silentLogger());
  assert.equal(dialled.destroyed, true);
});
