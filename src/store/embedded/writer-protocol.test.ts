import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { rollbackOpen } from './writer-protocol.ts';

function openDb(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
  return db;
}

test('rollbackOpen undoes an open transaction', () => {
  const db = openDb();
  db.exec('BEGIN IMMEDIATE');
  db.exec('INSERT INTO t VALUES (1)');
  rollbackOpen(db);
  assert.equal(db.isTransaction, false);
  assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
});

test('rollbackOpen on a Node without isTransaction (22.13–22.15) still rolls back, and tolerates none open', () => {
  const db = openDb();
  const old = { exec: (sql: string) => db.exec(sql) } as { readonly isTransaction?: boolean; exec(sql: string): void };
  db.exec('BEGIN IMMEDIATE');
  db.exec('INSERT INTO t VALUES (1)');
  rollbackOpen(old);
  assert.equal(db.isTransaction, false);
  assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
  assert.doesNotThrow(() => rollbackOpen(old));
});

test('rollbackOpen does nothing when no transaction is open', () => {
  const calls: string[] = [];
  rollbackOpen({ isTransaction: false, exec: (sql) => calls.push(sql) });
  assert.deepEqual(calls, []);
});
