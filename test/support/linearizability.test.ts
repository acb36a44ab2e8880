// The register linearizability checker: known non-linearizable histories (stale read, lost
// update, CAS success on a wrong value, a failed CAS on the right value) are rejected; linearizable
// ones, including indeterminate ops that did or did not take effect, are accepted; generated
// histories of a few thousand ops per key from a simulated linearizable register are accepted;
// on small random histories the verdict equals a brute-force search over every order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRegisterHistory, registerModel, type KeyedOp, type RegisterOp, type RegisterValue } from './linearizability.ts';
import { seededRandom as prng } from '../../src/gossip/random.ts';

const I = Infinity;
const op = (client: string, call: number, ret: number, o: RegisterOp, key = 'k'): KeyedOp => ({ key, client, call, ret, op: o });
const r = (value: RegisterValue): RegisterOp => ({ f: 'read', value });
const w = (value: RegisterValue): RegisterOp => ({ f: 'write', value });
const cas = (from: RegisterValue, to: RegisterValue, ok?: boolean): RegisterOp => ({ f: 'cas', from, to, ok });

function assertRejected(h: KeyedOp[], what: string): void {
  const v = checkRegisterHistory(h);
  assert.equal(v.ok, false, `${what} was accepted`);
  assert.equal(v.keys[0].verdict.ok, false, `${what}: ${JSON.stringify(v.keys[0].verdict)}`);
  assert.match(v.failures[0], /not linearizable/);
}

function assertAccepted(h: KeyedOp[], what: string): void {
  const v = checkRegisterHistory(h);
  assert.deepEqual(v.failures, [], what);
  assert.equal(v.ok, true, what);
}

test('stale read: a read invoked after a write completed returns the older value', () => {
  assertRejected([op('a', 0, 10, w('1')), op('a', 20, 30, w('2')), op('b', 40, 50, r('1'))], 'stale read');
  // A read concurrent with the second write may return either value.
  assertAccepted([op('a', 0, 10, w('1')), op('a', 20, 30, w('2')), op('b', 25, 50, r('1'))], 'concurrent read of the old value');
  // Once one client saw the new value, a later read may not go back (no "flicker").
  assertRejected([op('a', 0, 10, w('1')), op('a', 20, 100, w('2')), op('b', 30, 40, r('2')), op('c', 50, 60, r('1'))], 'read going back');
});

test('lost update: two CAS increments from the same value both succeed', () => {
  assertRejected([
    op('a', 0, 10, w('0')),
    op('b', 20, 30, r('0')), op('c', 20, 30, r('0')),
    op('b', 40, 60, cas('0', '1b', true)), op('c', 41, 61, cas('0', '1c', true)),
  ], 'both CAS from 0 succeeded');
  assertRejected([op('a', 0, 10, w('0')), op('b', 20, 30, w('1')), op('a', 40, 50, w('2')), op('c', 60, 70, r('1'))], 'acknowledged write lost');
});

test('CAS success on a wrong value, and CAS failure on the right value', () => {
  assertRejected([op('a', 0, 10, w('x')), op('b', 20, 30, cas('y', 'z', true))], 'CAS from y succeeded on x');
  assertRejected([op('a', 0, 10, w('x')), op('b', 20, 30, cas('x', 'z', false))], 'CAS from x failed on x');
  assertRejected([op('b', 0, 10, cas(null, 'z', true)), op('a', 20, 30, r(null))], 'create then read absent');
  assertAccepted([op('a', 0, 10, w('x')), op('b', 20, 30, cas('x', 'z', true)), op('c', 40, 50, r('z')), op('b', 60, 70, cas('x', 'q', false))], 'CAS chain');
});

test('indeterminate ops may or may not have taken effect', () => {
  // A timed-out write that a later read observes took effect...
  assertAccepted([op('a', 0, 10, w('1')), op('a', 20, I, w('2')), op('b', 30, 40, r('2')), op('b', 50, 60, r('2'))], 'indeterminate write seen');
  // ...one never observed did not.
  assertAccepted([op('a', 0, 10, w('1')), op('a', 20, I, w('2')), op('b', 30, 40, r('1')), op('b', 50, 60, r('1'))], 'indeterminate write unseen');
  // It can take effect late (the answer was lost, the write was applied after a later read).
  assertAccepted([op('a', 0, 10, w('1')), op('a', 20, I, w('2')), op('b', 30, 40, r('1')), op('b', 50, 60, r('2'))], 'indeterminate write applied late');
  // But never before its invoke, and at one point only (no flicker).
  assertRejected([op('b', 0, 5, r('2')), op('a', 10, I, w('2'))], 'indeterminate write seen before invoked');
  assertRejected([op('a', 0, 10, w('1')), op('a', 20, I, w('2')), op('b', 30, 40, r('2')), op('b', 50, 60, r('1'))], 'flicker');
  // An indeterminate CAS explains a failed CAS of the value it replaced.
  assertAccepted([op('a', 0, 10, w('0')), op('a', 20, I, cas('0', '1a')), op('b', 30, 40, cas('0', '1b', false))], 'indeterminate CAS explains a failure');
  assertRejected([op('a', 0, 10, w('0')), op('a', 20, I, cas('9', '1a')), op('b', 30, 40, cas('0', '1b', false))], 'indeterminate CAS from another value explains nothing');
  // Indeterminate reads are dropped.
  assertAccepted([op('a', 0, 10, w('1')), op('b', 20, I, r('nonsense'))], 'indeterminate read');
});

test('keys are checked separately and initial values are honoured', () => {
  const h = [op('a', 0, 10, w('1'), 'x'), op('a', 0, 10, w('2'), 'y'), op('b', 20, 30, r('1'), 'x'), op('b', 20, 30, r('1'), 'y')];
  const v = checkRegisterHistory(h);
  assert.equal(v.ok, false);
  assert.deepEqual(v.keys.map((k) => [k.key, k.verdict.ok]), [['x', true], ['y', false]]);
  assert.equal(checkRegisterHistory([op('a', 0, 10, r('s'))], { initial: { k: 's' } }).ok, true);
});


/**
 * A simulated register: clients issue ops with random latency; each op takes effect at a random
 * point inside its interval (so the history is linearizable by construction). Some answers are
 * lost (indeterminate), some of those never took effect.
 */
function simulate(seed: number, clients: number, opsPerClient: number): KeyedOp[] {
  const rnd = prng(seed);
  type Pending = { client: number; call: number; at: number; ret: number; kind: number; lost: boolean; applied: boolean; seq: number };
  const pending: Pending[] = [];
  const clock = Array.from({ length: clients }, () => 0);
  const left = Array.from({ length: clients }, () => opsPerClient);
  let seq = 0;
  const schedule = (c: number) => {
    const call = clock[c] + rnd() * 3;
    const ret = call + 0.1 + rnd() * 10;
    const lost = rnd() < 0.02;
    pending.push({ client: c, call, at: call + rnd() * (ret - call), ret, kind: rnd(), lost, applied: !lost || rnd() < 0.5, seq: seq++ });
    left[c]--;
  };
  for (let c = 0; c < clients; c++) schedule(c);
  let state: RegisterValue = null;
  const out: KeyedOp[] = [];
  while (pending.length) {
    pending.sort((a, b) => a.at - b.at);
    const p = pending.shift()!;
    let o: RegisterOp;
    if (p.kind < 0.4) o = { f: 'read', value: state };
    else if (p.kind < 0.6) o = { f: 'write', value: `w${p.seq}` };
    else {
      // CAS from the current value (usually) or from a stale one.
      const from: RegisterValue = rnd() < 0.7 ? state : `w${Math.floor(rnd() * p.seq)}`;
      o = { f: 'cas', from, to: `c${p.seq}`, ok: from === state };
    }
    if (p.applied && o.f !== 'read') state = o.f === 'write' ? o.value : o.ok ? o.to : state;
    if (p.lost && o.f === 'cas') o = { ...o, ok: undefined };
    out.push({ key: 'k', client: p.client, call: p.call, ret: p.lost ? Infinity : p.ret, op: o });
    clock[p.client] = p.ret;
    if (left[p.client] > 0) schedule(p.client);
  }
  return out;
}

test('generated linearizable histories of a few thousand ops are accepted; a corrupted read is rejected', () => {
  for (const seed of [1, 2, 3]) {
    const h = simulate(seed, 5, 400);
    const v = checkRegisterHistory(h);
    assert.deepEqual(v.failures, [], `seed ${seed}`);
    assert.equal(v.keys[0].ops, h.filter((o) => !(o.ret === Infinity && o.op.f === 'read')).length);
    // A completed read, late in the history, now returns the value of a write completed long before.
    const reads = h.map((o, i) => [o, i] as const).filter(([o]) => o.op.f === 'read' && o.ret !== Infinity && o.call > 500);
    const writes = h.filter((o) => o.op.f === 'write' && o.ret !== Infinity && o.ret < 100);
    const [target, idx] = reads[0];
    const old = writes[0].op as { value: string };
    const stale = h.map((o, i) => (i === idx ? { ...target, op: { f: 'read', value: old.value } as RegisterOp } : o));
    const verdict = checkRegisterHistory(stale).keys[0].verdict;
    assert.equal(verdict.ok, false, `seed ${seed}: stale read accepted (${JSON.stringify(verdict)})`);
  }
});

/** Every order of the ops that respects real time, tried one by one: the definition itself. */
function bruteForce(ops: KeyedOp[]): boolean {
  const used = ops.map(() => false);
  const place = (state: RegisterValue, placed: number): boolean => {
    if (placed === ops.length) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i] || ops.some((o, j) => !used[j] && j !== i && o.ret < ops[i].call)) continue;
      const next = registerModel.step(state, ops[i].op);
      if (next === undefined) continue;
      used[i] = true;
      const ok = place(next, placed + 1);
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return place(null, 0);
}

test('the search agrees with brute force on small random histories with indeterminate ops', () => {
  let linearizable = 0;
  for (let seed = 0; seed < 3000; seed++) {
    const rnd = prng(seed);
    const pick = () => ['a', 'b', 'c', null][Math.floor(rnd() * 4)];
    const ops: KeyedOp[] = [];
    for (let i = 0, n = 3 + Math.floor(rnd() * 6); i < n; i++) {
      const call = Math.floor(rnd() * 20);
      const ret = rnd() < 0.25 ? Infinity : call + 1 + Math.floor(rnd() * 8);
      const k = rnd();
      const o: RegisterOp = k < 0.35 && ret !== Infinity ? r(pick()) : k < 0.65 ? w(pick()) : cas(pick(), pick(), ret === Infinity ? undefined : rnd() < 0.5);
      ops.push(op(`c${i}`, call, ret, o));
    }
    const expected = bruteForce(ops);
    if (expected) linearizable++;
    assert.equal(checkRegisterHistory(ops).ok, expected, `seed ${seed}: ${JSON.stringify(ops)}`);
  }
  assert.ok(linearizable > 500 && linearizable < 2500, `${linearizable} of 3000 linearizable: the generator should make both kinds`);
});
