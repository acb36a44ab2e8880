// Kill -9 test for the embedded store: a child process acknowledges many concurrent writes and is
// killed mid-stream; reopening the store must show every acknowledged write and accept new ones.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { EmbeddedStore } from '../src/store/embedded/embedded.ts';

const writerScript = join(import.meta.dirname, 'support', 'crash-writer.ts');

/** Runs the writer (checkpointing as `checkpoint` says) until `killAfter` acks, SIGKILLs it, and returns every key it acknowledged. */
async function runAndKill(dir: string, killAfter: number, checkpoint: string): Promise<string[]> {
  const child = spawn(process.execPath, ['--no-warnings', writerScript, dir, '64', checkpoint], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const acked: string[] = [];
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  // A writer that stalls before `killAfter` acks must not outlive the test.
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    // Read to the end of the pipe: lines written before the kill are acknowledgements too.
    for await (const line of createInterface({ input: child.stdout })) {
      if (line === 'ready') continue;
      acked.push(line);
      if (acked.length === killAfter) child.kill('SIGKILL');
    }
  } finally {
    clearTimeout(guard);
    child.kill('SIGKILL');
  }
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', `writer exited on its own before the kill: ${stderr}`);
  assert.ok(acked.length >= killAfter, `writer stalled after ${acked.length} acks: ${stderr}`);
  return acked;
}

test('embedded store keeps every acknowledged write across kill -9', { timeout: 120_000 }, async (t) => {
  for (let round = 0; round < 3; round++) {
    const dir = await mkdtemp(join(tmpdir(), 'proconsul-crash-'));
    try {
      // Rounds 1 and 2 checkpoint every few frames and restart the WAL every 64.
      const acked = await runAndKill(dir, 2000, round === 0 ? '' : '4,64');
      const store = new EmbeddedStore({ dir });
      await store.open();
      const kvs = new Map((await store.range('k/')).kvs.map((kv) => [kv.key, Buffer.from(kv.value).toString()]));
      const missing = acked.filter((key) => kvs.get(key) !== `v-${key.split('/')[1]}-${key.split('/')[2]}`);
      assert.deepEqual(missing.slice(0, 10), [], `round ${round}: ${missing.length} of ${acked.length} acknowledged writes lost`);
      const revision = await store.currentRevision();
      t.diagnostic(`round ${round}: acked ${acked.length}, stored ${kvs.size}`);
      assert.equal(revision, kvs.size, 'every put was its own revision');
      const res = await store.txn({ success: [{ type: 'put', key: 'after-crash', value: Buffer.from('ok') }] });
      assert.equal(res.revision, revision + 1);
      await store.close();
      const reopened = new EmbeddedStore({ dir });
      await reopened.open();
      assert.equal((await reopened.get('after-crash'))?.modRevision, revision + 1);
      await reopened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});
