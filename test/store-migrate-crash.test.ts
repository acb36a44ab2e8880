// Kill -9 during the embedded store's format-1 → 2 migration: whenever the kill lands (copying the
// table, committing, compacting), the file opens afterwards as format 1 or 2, never in between,
// with every key and revision.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { EmbeddedStore } from '../src/store/embedded/embedded.ts';
import { storedFormat, writeFormat1 } from './support/format1-store.ts';

const openScript = join(import.meta.dirname, 'support', 'open-store.ts');
const KEYS = 50_000;

/**
 * Opens the store in a child, killed with SIGKILL `killMs` after it starts opening if given; the
 * ms from the start of its open until it answered or was killed.
 */
async function openInChild(dir: string, killMs?: number): Promise<{ ms: number; opened: boolean }> {
  const child = spawn(process.execPath, ['--no-warnings', openScript, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let started = 0;
  let timer: NodeJS.Timeout | undefined;
  let opened = false;
  for await (const line of createInterface({ input: child.stdout })) {
    const l = JSON.parse(line) as { opening?: boolean; opened?: boolean };
    if (l.opening) {
      started = performance.now();
      if (killMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killMs);
    }
    if (l.opened) opened = true;
  }
  clearTimeout(timer);
  return { ms: performance.now() - started, opened };
}

test('a kill -9 during the format-1 migration leaves format 1 or 2 with every key', { timeout: 180_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'proconsul-migrate-crash-'));
  try {
    const source = join(root, 'source');
    writeFormat1(source, KEYS);
    const formats: number[] = [];
    // Kills from early in the copy to past the commit; the last open runs to its end.
    for (const killMs of [50, 150, 300, 500, 800, 1200, 1800, undefined]) {
      const dir = join(root, String(killMs));
      await cp(source, dir, { recursive: true });
      const { opened, ms } = await openInChild(dir, killMs);
      const format = storedFormat(dir);
      formats.push(format);
      t.diagnostic(`${opened ? `opened in ${Math.round(ms)} ms` : `killed after ${killMs} ms`}: format ${format}`);
      const store = new EmbeddedStore({ dir });
      await store.open();
      const all = await store.range('');
      assert.equal(all.revision, KEYS);
      assert.equal(all.kvs.length, KEYS, `killed after ${killMs} ms, format ${format}`);
      assert.ok(all.kvs.every((kv) => kv.createRevision === kv.modRevision && kv.version === 1 && kv.value.byteLength === 200));
      await store.close();
      assert.equal(storedFormat(dir), 2);
      await rm(dir, { recursive: true, force: true });
    }
    assert.ok(formats.every((f) => f === 1 || f === 2), formats.join());
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
