// The embedded store's writer thread: it owns the SQLite write connection (WAL, synchronous=FULL)
// and commits the groups the main thread posts, everything that arrived while the previous
// commit was syncing in one transaction, then acknowledges them: the ack follows the fsync.
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import {
  decodeGroup, decodeSlot, slotViews, type GroupSink, type SlotGroup, type WriteGroup, type WriterReply, type WriterRequest,
} from './writer-protocol.ts';

const port = parentPort!;
const { path, slots: shared } = workerData as { path: string; slots: SharedArrayBuffer[] };
const slots = shared.map(slotViews);
const db = new DatabaseSync(path);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
const putKv = db.prepare('INSERT OR REPLACE INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?)');
const deleteKv = db.prepare('DELETE FROM kv WHERE key = ?');
const putLease = db.prepare('INSERT OR REPLACE INTO lease (id, ttl_seconds) VALUES (?, ?)');
const deleteLease = db.prepare('DELETE FROM lease WHERE id = ?');
const setMeta = db.prepare('UPDATE meta SET value = ? WHERE key = ?');

let queue: (WriteGroup | SlotGroup)[] = [];
let scheduled = false;
let failed = false;

const reply = (r: WriterReply): void => port.postMessage(r);

const sink: GroupSink = {
  put: (key, value, createRev, modRev, version, lease) => putKv.run(key, value, createRev, modRev, version, lease),
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
    if (db.isTransaction) db.exec('ROLLBACK');
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
}

port.on('message', (msg: WriterRequest) => {
  if (msg.type === 'close') {
    flush();
    db.close();
    reply({ type: 'closed' });
    port.close();
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
