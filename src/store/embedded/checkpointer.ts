// The embedded store's checkpointer thread: copies committed WAL frames into the database file
// (a PASSIVE checkpoint on its own connection) while the writer thread goes on committing, so
// that no commit's acknowledgement waits for a checkpoint. It blocks on a shared counter that the
// writer bumps when the WAL has grown enough, and runs one pass per wake-up.
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { CHECKPOINT_BUSY, CHECKPOINT_REQUESTS, CHECKPOINT_STOP } from './writer-protocol.ts';

const { path, signal: shared } = workerData as { path: string; signal: SharedArrayBuffer };
const signal = new Int32Array(shared);
const db = new DatabaseSync(path);
// A checkpoint syncs the WAL before copying and the database file after it, so the writer may
// overwrite the copied frames once it restarts the WAL.
db.exec('PRAGMA synchronous = FULL');
const pass = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let seen = 0;
let failing = false;
for (;;) {
  Atomics.wait(signal, CHECKPOINT_REQUESTS, seen);
  if (Atomics.load(signal, CHECKPOINT_STOP)) break;
  seen = Atomics.load(signal, CHECKPOINT_REQUESTS);
  Atomics.store(signal, CHECKPOINT_BUSY, 1);
  try {
    pass.get();
    failing = false;
  } catch (err) {
    // Every frame in the WAL is durable already: a failed pass only leaves more of it for the
    // next one. The writer has the first failure of a run logged (the WAL grows until one succeeds).
    if (!failing) parentPort!.postMessage({ message: (err as Error).message });
    failing = true;
  }
  Atomics.store(signal, CHECKPOINT_BUSY, 0);
}
db.close();
