import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { createLogger } from '../log.ts';
import { backgroundLoop, LeaderLoops } from './loops.ts';

test('backgroundLoop: a start aborts the previous run, a stop aborts the current one, and start does not wait for the run', async () => {
  const signals: AbortSignal[] = [];
  const loop = backgroundLoop('bg', (signal) => { signals.push(signal); return new Promise<void>(() => {}); });
  assert.equal(loop.name, 'bg');
  await loop.start();
  await loop.start();
  assert.deepEqual(signals.map((s) => s.aborted), [true, false]);
  await loop.stop();
  assert.deepEqual(signals.map((s) => s.aborted), [true, true]);
  await loop.stop();
});

test('LeaderLoops: a start while the duties already run starts nothing and logs nothing', async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', json: true, write: (l) => { lines.push(JSON.parse(l) as Record<string, unknown>); } });
  const starts: string[] = [];
  const loops = new LeaderLoops({ clock: new ManualClock(), logger });
  loops.add({ name: 'a', start: async () => { starts.push('a'); }, stop: () => {} });
  loops.add({ name: 'b', start: async () => { starts.push('b'); }, stop: () => {} });
  // Leadership starts them, and the agent awaits a start of its own before opening its listeners.
  void loops.start();
  await loops.start();
  assert.deepEqual(starts, ['a', 'b']);
  assert.deepEqual(lines.filter((l) => l['@message'] === 'leader duties running').map((l) => l.loops), [['a', 'b']]);
  await loops.stop();
  await loops.start();
  assert.deepEqual(starts, ['a', 'b', 'a', 'b']);
  assert.equal(lines.filter((l) => l['@message'] === 'leader duties running').length, 2, 'a start after a stop logs again');
});
