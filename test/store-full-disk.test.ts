// The embedded store on a disk that fills up (a file-size limit on the child process): checkpoints
// fail first, as the database file can grow no more, and are logged; then the WAL fills and writes
// fail. Every acknowledged write is there when the store is reopened without the limit.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { EmbeddedStore } from '../src/store/embedded/embedded.ts';

const writerScript = join(import.meta.dirname, 'support', 'full-disk-writer.ts');
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;

type Line = { acked?: string; log?: string; err?: string; failed?: string };

/** Runs the writer with files limited to `bytes` until it stops, returning its lines in order. */
async function runFull(dir: string, bytes: number): Promise<Line[]> {
  const child = spawn('prlimit', [`--fsize=${bytes}`, process.execPath, '--no-warnings', writerScript, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const lines: Line[] = [];
  try {
    for await (const line of createInterface({ input: child.stdout })) lines.push(JSON.parse(line) as Line);
  } finally {
    clearTimeout(guard);
  }
  assert.ok(lines.some((l) => l.failed), `the writer never failed: ${stderr}`);
  return lines;
}

test('embedded store on a full disk: failed checkpoints are logged, and no acknowledged write is lost',
  { skip: !hasPrlimit && 'no prlimit', timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'proconsul-full-'));
    try {
      const lines = await runFull(dir, 1_000_000);
      const firstFailed = lines.findIndex((l) => l.failed);
      const ckpt = lines.findIndex((l) => l.log === 'embedded store checkpoint failed');
      assert.ok(ckpt >= 0 && ckpt < firstFailed, `no checkpoint failure logged before writes failed: ${JSON.stringify(lines.filter((l) => l.log))}`);
      const acked = lines.flatMap((l) => (l.acked ? [l.acked] : []));
      assert.ok(acked.length > 200, `${acked.length} writes acknowledged`);
      const store = new EmbeddedStore({ dir });
      await store.open();
      const stored = new Set((await store.range('k/')).kvs.map((kv) => kv.key));
      const missing = acked.filter((key) => !stored.has(key));
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${acked.length} acknowledged writes lost`);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
