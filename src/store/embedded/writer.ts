// The embedded store's writer thread: it owns the SQLite write connection (WAL, synchronous=FULL)
// and commits the groups the main thread posts, everything that arrived while the previous
// commit was syncing in one transaction, then acknowledges them: the ack follows the fsync.
// Checkpoints run on a checkpointer thread (checkpointer.ts) and never delay an ack.
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import {
  CHECKPOINT_BUSY, CHECKPOINT_REQUESTS, CHECKPOINT_STOP, decodeGroup, decodeSlot, rollbackOpen, slotViews, walReportable,
  type CheckpointTuning, type GroupSink, type SlotGroup, type WriteGroup, type WriterReply, type WriterRequest,
} from './writer-protocol.ts';
import { PUT_KV } from './schema.ts';

const port = parentPort!;
const { path, slots: shared, checkpoint: tuning } = workerData as { path: string; slots: SharedArrayBuffer[]; checkpoint: CheckpointTuning };
const slots = shared.map(slotViews);
const db = new DatabaseSync(path);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
const version = tuning.sqliteVersion ?? (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
// SQLite's own checkpoint runs inside COMMIT, after the fsync but before the ack; it is turned off
// only where the WAL's length can be read without a checkpoint (on an older SQLite, NOOP would be
// a PASSIVE pass after every commit), and there SQLite's checkpoint every 1,000 frames stays.
const walState = walReportable(version) ? db.prepare('PRAGMA wal_checkpoint(NOOP)') : null;
if (walState) db.exec('PRAGMA wal_autocheckpoint = 0');
const ownPass = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const putKv = db.prepare(PUT_KV);
const deleteKv = db.prepare('DELETE FROM kv WHERE key = ?');
const putLease = db.prepare('INSERT OR REPLACE INTO lease (id, ttl_seconds) VALUES (?, ?)');
const deleteLease = db.prepare('DELETE FROM lease WHERE id = ?');
const setMeta = db.prepare('UPDATE meta SET value = ? WHERE key = ?');

let queue: (WriteGroup | SlotGroup)[] = [];
let scheduled = false;
let failed = false;

const reply = (r: WriterReply): void => port.postMessage(r);

const sink: GroupSink = {
  put: (key, value, createRev, modRev, version, lease) => putKv.run(key, createRev, modRev, version, lease, value),
  delete: (key) => deleteKv.run(key),
  leasePut: (id, ttl) => putLease.run(id, ttl),
  leaseDelete: (id) => deleteLease.run(id),
};

function write(groups: (WriteGroup | SlotGroup)[]): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    let revision = 0;
    let lastLease = 0;
    for (const g of groups) {
      // A slot is read before the ack that lets the main thread reuse it.
      if (g.type === 'slot') decodeSlot(slots[g.slot], sink);
      else decodeGroup(g, sink);
      revision = Math.max(revision, g.revision);
      lastLease = Math.max(lastLease, g.lastLease);
    }
    if (revision) setMeta.run(revision, 'revision');
    if (lastLease) setMeta.run(lastLease, 'last_lease');
    db.exec('COMMIT');
  } catch (err) {
    rollbackOpen(db);
    throw err;
  }
}

function flush(): void {
  scheduled = false;
  const groups = queue;
  queue = [];
  if (groups.length === 0 || failed) return;
  try {
    write(groups);
  } catch (err) {
    // Fail-stop: the main thread stops the store; nothing after this is written.
    failed = true;
    const e = err as Error;
    reply({ type: 'failed', message: e.message, stack: e.stack ?? '' });
    return;
  }
  reply({ type: 'ack', seq: groups[groups.length - 1].seq });
  checkpointIfDue();
}

/** The checkpointer thread, started on first need; 'failed' once it has stopped on its own. */
let background: { worker: Worker; signal: Int32Array; exited: Promise<void> } | 'failed' | null = null;

/**
 * After a commit: asks the checkpointer for a pass once `tuning.frames` frames wait to be copied.
 * The WAL restarts from its beginning only when a commit finds every frame copied, which a
 * background pass behind a steady stream of commits never achieves; past `tuning.capFrames`
 * the writer copies the rest itself, after the ack (so the commits waiting are delayed, not
 * the ones acknowledged). Without a checkpointer it does every pass itself, as SQLite would.
 */
function checkpointIfDue(): void {
  if (!walState) return;
  try {
    const { log, checkpointed } = walState.get() as { log: number; checkpointed: number };
    if (log >= (background === 'failed' ? tuning.frames : tuning.capFrames)) ownPass.get();
    else if (log - checkpointed >= tuning.frames) requestPass();
    ownFailing = false;
  } catch (err) {
    // Every frame in the WAL is durable already; a pass that failed is tried again after the next
    // commit (one that found the checkpointer mid-pass returns busy rather than failing).
    if (!ownFailing) checkpointFailed((err as Error).message);
    ownFailing = true;
  }
}

/** Whether the writer's last attempt failed: a run of failures is logged once. */
let ownFailing = false;

/** Has the main thread log a failed checkpoint: unnoticed, the WAL would grow to the disk's end. */
function checkpointFailed(message: string): void {
  reply({ type: 'checkpoint-failed', message });
}

function requestPass(): void {
  if (background === 'failed') return;
  background ??= startCheckpointer();
  const { signal } = background;
  if (Atomics.load(signal, CHECKPOINT_BUSY)) return;
  Atomics.add(signal, CHECKPOINT_REQUESTS, 1);
  Atomics.notify(signal, CHECKPOINT_REQUESTS);
}

// Written in the same language as this file, so that the built package finds checkpointer.js.
const CHECKPOINTER = new URL(import.meta.url.endsWith('.ts') ? './checkpointer.ts' : './checkpointer.js', import.meta.url);

function startCheckpointer(): { worker: Worker; signal: Int32Array; exited: Promise<void> } {
  const sab = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  const worker = new Worker(CHECKPOINTER, { name: 'store-ckpt', workerData: { path, signal: sab } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => {
    background = 'failed';
    resolve();
  }));
  worker.on('message', (m: { message: string }) => checkpointFailed(m.message));
  worker.on('error', (err) => checkpointFailed(`checkpointer thread: ${err.message}`));
  return { worker, signal: new Int32Array(sab), exited };
}

/** Stops the checkpointer (after its current pass) and waits for its thread to end. */
async function stopCheckpointer(): Promise<void> {
  if (!background || background === 'failed') return;
  const { signal, exited } = background;
  Atomics.store(signal, CHECKPOINT_STOP, 1);
  Atomics.add(signal, CHECKPOINT_REQUESTS, 1);
  Atomics.notify(signal, CHECKPOINT_REQUESTS);
  await exited;
}

port.on('message', (msg: WriterRequest) => {
  if (msg.type === 'close') {
    flush();
    void stopCheckpointer().then(() => {
      db.close();
      reply({ type: 'closed' });
      port.close();
    });
    return;
  }
  queue.push(msg);
  // Every group that arrived while the last commit was syncing joins the next one.
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
reply({ type: 'ready' });
