// auto_reload_config's reload loop: changes that arrive while a reload runs make one more reload,
// not one per coalescing interval (Consul's watcher hands the agent one event at a time and holds
// the rest), and stop() leaves no reload to run after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { AutoReload } from './auto-reload.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { tmpDir } from '../test-tmp-dir.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup() {
  const dir = tmpDir('proconsul-autoreload-');
  const file = path.join(dir, 'agent.hcl');
  fs.writeFileSync(file, 'a');
  fs.utimesSync(file, 1000, 1000);
  const config = { sources: [file], configPaths: [file], autoReloadConfig: true } as unknown as RuntimeConfig;
  const clock = new ManualClock();
  let reads = 0;
  let applies = 0;
  let release!: () => void;
  let gate = Promise.resolve();
  const hold = (): void => {
    gate = new Promise<void>((r) => { release = r; });
  };
  const r = new AutoReload(config, {
    clock, logger: silentLogger(), coalesceMs: 1000, reconcileMs: 100,
    read: async () => {
      reads++;
      return config;
    },
    apply: async () => {
      applies++;
      await gate;
    },
  });
  let edits = 0;
  // An edit seen by the next reconcile round, handed over when its coalescing interval ends.
  const edit = async (): Promise<void> => {
    edits++;
    fs.utimesSync(file, 1000 + edits, 1000 + edits);
    clock.advance(100);
    clock.advance(1000);
    await tick();
  };
  return { r, edit, hold, release: () => release(), counts: () => ({ reads, applies }) };
}

test('edits during a running reload make one more reload, not one per interval', async () => {
  const { r, edit, hold, release, counts } = setup();
  r.start();
  try {
    hold();
    await edit();
    assert.deepEqual(counts(), { reads: 1, applies: 1 }, 'the first reload runs');
    await edit();
    await edit();
    await edit();
    assert.deepEqual(counts(), { reads: 1, applies: 1 }, 'the others wait for it');
    release();
    await tick();
    await tick();
    assert.deepEqual(counts(), { reads: 2, applies: 2 }, 'one reload covers every edit made meanwhile');
    await tick();
    assert.deepEqual(counts(), { reads: 2, applies: 2 });
  } finally {
    release();
    await r.stop();
  }
});

test('stop() waits for the running reload and drops the queued one', async () => {
  const { r, edit, hold, release, counts } = setup();
  r.start();
  hold();
  await edit();
  await edit();
  assert.deepEqual(counts(), { reads: 1, applies: 1 });
  const stopped = r.stop();
  release();
  await stopped;
  await tick();
  assert.deepEqual(counts(), { reads: 1, applies: 1 }, 'no reload after stop()');
});
