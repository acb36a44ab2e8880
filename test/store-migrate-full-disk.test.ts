// The embedded store's format-1 → 2 migration on a disk that fills up (a file-size limit on the
// child process): the open fails with the disk's error and the file stays format 1 with every key,
// or the migration commits and the store opens even if the file cannot be compacted afterwards.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { EmbeddedStore } from '../src/store/embedded/embedded.ts';
import { storedFormat, writeFormat1 } from './support/format1-store.ts';

const openScript = join(import.meta.dirname, 'support', 'open-store.ts');
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
const KEYS = 20_000;

type Line = { log?: string; err?: string; opened?: boolean; keys?: number; error?: string };

/** Opens the store in a child with files limited to `bytes`; its output lines. */
async function openLimited(dir: string, bytes: number): Promise<Line[]> {
  const child = spawn('prlimit', [`--fsize=${bytes}`, process.execPath, '--no-warnings', openScript, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const lines: Line[] = [];
  for await (const line of createInterface({ input: child.stdout })) lines.push(JSON.parse(line) as Line);
  assert.ok(lines.some((l) => l.opened || l.error), `no result from the child: ${stderr}`);
  return lines;
}

/** Reopens without a limit: the format on disk and every key with its revisions. */
async function reopen(dir: string): Promise<number> {
  const format = storedFormat(dir);
  const store = new EmbeddedStore({ dir });
  await store.open();
  const all = await store.range('');
  assert.equal(all.kvs.length, KEYS);
  assert.equal(all.revision, KEYS);
  assert.ok(all.kvs.every((kv) => kv.createRevision === kv.modRevision && kv.version === 1 && kv.value.byteLength === 200));
  await store.close();
  return format;
}

test('a migration that fills the disk fails with the disk\'s error and leaves format 1 whole',
  { skip: !hasPrlimit && 'no prlimit', timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'proconsul-migrate-full-'));
    try {
      const size = writeFormat1(dir, KEYS);
      // The WAL cannot hold the copied table.
      const lines = await openLimited(dir, Math.floor(size / 2));
      const error = lines.find((l) => l.error)?.error ?? '';
      assert.match(error, /disk I\/O error|database or disk is full/);
      assert.equal(await reopen(dir), 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

test('a migration that fits but leaves no room to compact the file opens the store and logs it',
  { skip: !hasPrlimit && 'no prlimit', timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'proconsul-migrate-full-'));
    try {
      const size = writeFormat1(dir, KEYS);
      // Room for the migration's WAL, not for VACUUM's copy of the file as well.
      const lines = await openLimited(dir, Math.floor(size * 1.3));
      assert.deepEqual(lines.at(-1), { opened: true, keys: KEYS }, JSON.stringify(lines));
      assert.ok(lines.some((l) => l.log === 'embedded store format migrated'));
      const compact = lines.find((l) => l.log === 'embedded store not compacted after its migration');
      assert.match(compact?.err ?? '', /disk I\/O error|database or disk is full/);
      assert.equal(await reopen(dir), 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
