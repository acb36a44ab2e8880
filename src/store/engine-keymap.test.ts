// The engine with the catalog's keys hashed (KeyMap) against the engine with every key in the
// B+tree: the same random transactions, lease revocations, releases and restarts must give the
// same responses, batches, ranges and snapshot bytes, in code-unit key order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyMap } from './key-map.ts';
import { sortedMap, forPrefix } from '../sorted-map.ts';
import { StoreEngine, type LoadedKey, type ValueSource } from './engine.ts';
import { writeSnapshot } from './snapshot.ts';
import type { Compare, KeyValue, Op, TxnRequest, WatchBatch } from './store.ts';

/** A durable copy filled as batches become durable (the embedded backend's SQLite). */
class Disk implements ValueSource {
  readonly values = new Map<string, Uint8Array>();
  get(key: string): Uint8Array {
    const v = this.values.get(key);
    if (!v) throw new Error(`no durable value for ${key}`);
    return v;
  }
  range(prefix: string): Map<string, Uint8Array> {
    return new Map([...this.values].filter(([k]) => k.startsWith(prefix)));
  }
  persist(batch: WatchBatch): void {
    for (const ev of batch.events) {
      if (ev.type === 'put') this.values.set(ev.kv.key, ev.kv.value);
      else this.values.delete(ev.kv.key);
    }
  }
}

/** One engine under test with its durable copy and the batches not yet durable. */
interface Side {
  engine: StoreEngine;
  disk: Disk | undefined;
  unreleased: WatchBatch[];
  published: WatchBatch[];
}

function side(hashedPrefix: string, durable: boolean): Side {
  const disk = durable ? new Disk() : undefined;
  return { engine: new StoreEngine({ hashedPrefix, values: disk, historyLimit: 8 }), disk, unreleased: [], published: [] };
}

const codeUnitOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// Keys around the hashed prefix's edges, with non-ASCII, BMP-above-surrogate and astral parts
// (code-unit order puts '\u{1F600}' (D83D DE00) before '\uFF21', code-point order after it).
const HEADS = ['catalog/', 'catalog', 'catalog0', 'catalog.', 'catalog/node/', 'catalog/service/n/', 'catalog/check/n/',
  'c', 'cat', 'coordinate/', 'kv/', 'kv/catalog/', 't/p/catalog/', '', 'd', '\u{1F600}'];
const TAILS = ['', 'a', 'x', 'x/y', 'é', '\u{1F600}', '\uFF21', '\u{10FFFF}', '%F0%9F%98%80', '\uD83D', '0'];
const PREFIXES = ['', 'c', 'cat', 'catalog', 'catalog/', 'catalog/node/', 'catalog/node/x', 'catalog/node/\uD83D',
  'catalog/node/\u{1F600}', 'catalog0', 'catalog.', 'coordinate/', 'kv/', 'd', 'catalog/zz', '\uFFFF'];

/** A seeded generator of integers below n (mulberry32: an LCG's low bits would repeat every few calls). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

/** A random transaction over the keys above; leases are those both sides hold. */
function randomTxn(rnd: (n: number) => number, step: number, leases: number[]): TxnRequest {
  const key = (): string => HEADS[rnd(HEADS.length)] + TAILS[rnd(TAILS.length)];
  const op = (): Op => {
    const r = rnd(40);
    if (r < 24) {
      const lease = leases.length && rnd(4) === 0 ? leases[rnd(leases.length)] : 0;
      return { type: 'put', key: key(), value: Buffer.from(`v${step}.${rnd(1000)}`), lease, prevKv: rnd(3) === 0 };
    }
    if (r < 30) return { type: 'delete', key: key() };
    if (r < 31) return { type: 'deletePrefix', prefix: PREFIXES[2 + rnd(PREFIXES.length - 2)] };
    if (r < 35) return { type: 'get', key: key() };
    return { type: 'range', prefix: PREFIXES[rnd(PREFIXES.length)] };
  };
  const compare = (): Compare => {
    const r = rnd(4);
    if (r === 0) return { key: key(), target: 'createRevision', op: '=', value: 0 };
    if (r === 1) return { key: key(), target: 'modRevision', op: '<', value: step };
    if (r === 2) return { key: key(), target: 'value', op: '!=', value: Buffer.from('none') };
    return { key: key(), target: 'version', op: '>', value: rnd(2) };
  };
  const ops = (n: number): Op[] => Array.from({ length: n }, op);
  const compares = Array.from({ length: rnd(4) }, compare);
  // A create-only registration (compares absent, then only puts) takes the engine's placing path.
  if (rnd(3) === 0) {
    const keys = [key(), key(), key()];
    return { compares: keys.map((k) => ({ key: k, target: 'createRevision', op: '=', value: 0 })),
      success: keys.slice(rnd(2)).map((k) => ({ type: 'put', key: k, value: Buffer.from(`r${step}`) })) };
  }
  return { compares, success: ops(1 + rnd(4)), failure: ops(rnd(3)) };
}

/** Applies the same step to both sides and asserts the same outcome. */
function applyBoth(sides: Side[], fn: (s: Side) => unknown, what: string): void {
  const out = sides.map((s) => {
    try {
      return { ok: fn(s) };
    } catch (err) {
      return { err: (err as Error).message };
    }
  });
  assert.deepEqual(out[1], out[0], what);
}

/** Makes the oldest `n` unreleased batches durable and publishes them. */
function release(s: Side, n: number): void {
  for (const b of s.unreleased.splice(0, n)) {
    s.disk?.persist(b);
    s.engine.release(b);
    s.engine.publish(b);
    s.published.push(b);
  }
}

function txn(s: Side, req: TxnRequest): unknown {
  const { response, batch } = s.engine.apply(req);
  if (batch) s.unreleased.push(batch);
  return { response, batch };
}

/** Revokes a lease as EngineStore.leaseRevoke does: its keys deleted in one txn, then the lease. */
function revoke(s: Side, id: number): unknown {
  const lease = s.engine.leases.get(id)!;
  const out = txn(s, { success: [...lease.keys].map((key) => ({ type: 'delete' as const, key })) });
  s.engine.leases.delete(id);
  return out;
}

async function snapshotBytes(s: Side): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const leases = [...s.engine.leases.values()].map((l) => ({ id: l.id, ttlSeconds: l.ttlSeconds }));
  for await (const c of writeSnapshot(s.engine.revision, s.engine.range(''), leases)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** A restart: every batch made durable, then a fresh engine loaded from it in a scrambled order. */
function restart(s: Side, hashedPrefix: string, rnd: (n: number) => number): Side {
  release(s, s.unreleased.length);
  const kvs: LoadedKey[] = s.engine.range('').map((kv) => ({ ...kv, value: s.disk ? null : kv.value }));
  for (let i = kvs.length - 1; i > 0; i--) {
    const j = rnd(i + 1);
    [kvs[i], kvs[j]] = [kvs[j], kvs[i]];
  }
  const next: Side = { ...side(hashedPrefix, s.disk !== undefined), disk: s.disk };
  if (s.disk) next.engine.useValues(s.disk);
  const leases = [...s.engine.leases.values()].map((l) => ({ id: l.id, ttlSeconds: l.ttlSeconds }));
  next.engine.load(kvs, leases, s.engine.revision, Math.max(0, ...leases.map((l) => l.id)));
  return next;
}

async function differential(durable: boolean, seed: number): Promise<void> {
  const rnd = rng(seed);
  let sides = [side('', durable), side('catalog/', durable)];
  for (let step = 0; step < 4000; step++) {
    const r = rnd(40);
    const leases = [...sides[0].engine.leases.keys()];
    if (r === 0) applyBoth(sides, (s) => s.engine.grantLease(10).id, `grant ${step}`);
    else if (r === 1 && leases.length) {
      const id = leases[rnd(leases.length)];
      applyBoth(sides, (s) => revoke(s, id), `revoke ${id} at ${step}`);
    } else if (r === 2) {
      const n = rnd(4);
      sides.forEach((s) => release(s, n));
    } else if (r === 3 && step % 7 === 0) {
      sides = sides.map((s, i) => restart(s, i === 0 ? '' : 'catalog/', rng(step)));
    } else {
      const req = randomTxn(rnd, step, leases);
      applyBoth(sides, (s) => txn(s, req), `txn ${step} ${JSON.stringify(req.success.map((o) => o.type))}`);
    }
    if (step % 50 === 0 || r < 4) {
      const prefix = PREFIXES[rnd(PREFIXES.length)];
      applyBoth(sides, (s) => s.engine.range(prefix), `range ${JSON.stringify(prefix)} at ${step}`);
      assert.equal(sides[1].engine.keys.size, sides[0].engine.keys.size);
    }
  }
  const all = sides[1].engine.range('');
  if (process.env.KEYMAP_TEST_STATS) console.log(seed, all.length, all.filter((kv) => kv.key.startsWith('catalog/')).length, sides[1].engine.revision);
  assert.deepEqual(all.map((kv) => kv.key), all.map((kv) => kv.key).sort(codeUnitOrder), 'code-unit order');
  assert.ok(all.some((kv) => kv.key.startsWith('catalog/')) && all.some((kv) => !kv.key.startsWith('catalog/')));
  assert.deepEqual(sides[1].published, sides[0].published);
  assert.deepEqual(await snapshotBytes(sides[1]), await snapshotBytes(sides[0]));
}

test('hashed catalog keys: every engine path answers as the all-ordered engine (values in memory)', async () => {
  await differential(false, 11);
  await differential(false, 12);
});

test('hashed catalog keys: every engine path answers as the all-ordered engine (durable values, restarts)', async () => {
  await differential(true, 21);
  await differential(true, 22);
});

/** The entries forPrefix gives, stopping after `stop` of them. */
function listed(each: (fn: (k: string, v: number) => boolean) => void, stop: number): [string, number][] {
  const out: [string, number][] = [];
  each((k, v) => {
    out.push([k, v]);
    return out.length < stop;
  });
  return out;
}

test('KeyMap: every prefix, stopped at every position, as the plain sorted map (astral and non-ASCII keys, empty hashed set)', () => {
  const rnd = rng(5);
  const m = new KeyMap<number>('catalog/');
  const ref = sortedMap<string, number>();
  const check = (what: string): void => {
    for (const prefix of PREFIXES) {
      const want = listed((fn) => forPrefix(ref, prefix, fn), Infinity);
      for (let stop = 1; stop <= want.length + 1; stop++) {
        assert.deepEqual(listed((fn) => m.forPrefix(prefix, fn), stop), want.slice(0, stop), `${what}: ${JSON.stringify(prefix)} stop ${stop}`);
      }
    }
  };
  for (const k of ['a', 'catalog', 'catalog0', 'd']) assert.equal(m.set(k, 0), ref.set(k, 0));
  check('no hashed key');
  for (let step = 1; step < 1500; step++) {
    const key = HEADS[rnd(HEADS.length)] + TAILS[rnd(TAILS.length)];
    if (rnd(3) === 0) assert.equal(m.delete(key), ref.delete(key));
    else {
      const overwrite = rnd(4) !== 0;
      assert.equal(m.set(key, step, overwrite), ref.set(key, step, overwrite));
    }
    if (step % 100 === 0) check(`step ${step}`);
  }
  check('end');
  // Emptied again: the cached order must not bring any back.
  const hashed = listed((fn) => forPrefix(ref, 'catalog/', fn), Infinity);
  assert.ok(hashed.length > 10);
  for (const [k] of hashed) assert.equal(m.delete(k), ref.delete(k));
  check('hashed keys all deleted');
});
