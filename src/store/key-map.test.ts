import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyMap } from './key-map.ts';

/** Every key of `m` under `prefix` with its value, as forPrefix gives them. */
function listed(m: KeyMap<number>, prefix: string, stopAfter = Infinity): [string, number][] {
  const out: [string, number][] = [];
  m.forPrefix(prefix, (k, v) => {
    out.push([k, v]);
    return out.length < stopAfter;
  });
  return out;
}

/** The same from a plain Map, sorted by code units. */
function expected(ref: Map<string, number>, prefix: string, stopAfter = Infinity): [string, number][] {
  return [...ref].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, stopAfter);
}

// Keys around the hashed prefix's edges: before it, inside it, past it, and its own prefixes.
const PARTS = ['catalog/', 'catalog', 'catalof/', 'catalog0', 'catalog.', 'catalog/node/', 'catalog/service/', 'cat', 'kv/', 'a', 'd/', 'catalog/node/x/', ''];
const PREFIXES = ['', 'c', 'cat', 'catalog', 'catalog/', 'catalog/n', 'catalog/node/', 'catalog/service/x', 'catalog0', 'kv/', 'z', 'catalog/zz'];

test('KeyMap: reads, writes and prefix ranges match an ordered map under random changes', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    // The high bits: an LCG's low bits repeat every few draws.
    return (seed >>> 15) % n;
  };
  for (const hashed of ['catalog/', '']) {
    const m = new KeyMap<number>(hashed);
    const ref = new Map<string, number>();
    for (let step = 0; step < 6000; step++) {
      const key = PARTS[rnd(PARTS.length)] + ['', 'a', 'b', 'B', 'a/b', '%2F', 'é', 'z9'][rnd(8)] + (rnd(3) === 0 ? String(rnd(50)) : '');
      const op = rnd(10);
      if (op < 5) {
        const overwrite = rnd(4) !== 0;
        const isNew = !ref.has(key);
        assert.equal(m.set(key, step, overwrite), isNew, `set ${key}`);
        if (isNew || overwrite) ref.set(key, step);
      } else if (op < 8) {
        assert.equal(m.delete(key), ref.delete(key), `delete ${key}`);
      } else {
        const prefix = PREFIXES[rnd(PREFIXES.length)];
        const stop = rnd(3) === 0 ? 1 + rnd(5) : Infinity;
        assert.deepEqual(listed(m, prefix, stop), expected(ref, prefix, stop), `forPrefix ${JSON.stringify(prefix)} (hashed ${JSON.stringify(hashed)})`);
      }
      assert.equal(m.get(key), ref.get(key));
      assert.equal(m.size, ref.size);
    }
    for (const prefix of PREFIXES) assert.deepEqual(listed(m, prefix), expected(ref, prefix));
  }
});

test('KeyMap: the hashed keys come in order between the ordered ones around them', () => {
  const m = new KeyMap<number>('catalog/');
  for (const [i, k] of ['catalog0', 'catalog/service/b', 'catalog', 'catalog/node/a', 'catalog.x', 'catalog/check/c', 'kv/x', 'a'].entries()) m.set(k, i);
  assert.deepEqual(listed(m, '').map(([k]) => k), ['a', 'catalog', 'catalog.x', 'catalog/check/c', 'catalog/node/a', 'catalog/service/b', 'catalog0', 'kv/x']);
  assert.deepEqual(listed(m, 'catalog/n').map(([k]) => k), ['catalog/node/a']);
  // A key added after a range is in the next one.
  m.set('catalog/node/0', 9);
  assert.deepEqual(listed(m, 'catalog/').map(([k]) => k), ['catalog/check/c', 'catalog/node/0', 'catalog/node/a', 'catalog/service/b']);
  assert.equal(m.delete('catalog/node/a'), true);
  assert.deepEqual(listed(m, 'catalog/node/').map(([k]) => k), ['catalog/node/0']);
});
