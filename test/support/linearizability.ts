// Linearizability checking of concurrent histories (Wing & Gong's search with Lowe's
// memoization of (linearized set, state), as in Knossos and Porcupine), with a register model
// for KV histories: read / write / compare-and-set, each op with its invoke and complete times;
// an op whose outcome is unknown (failed or timed out) is indeterminate: it may take effect at
// any point after its invoke, or never. Histories are checked per key (P-compositionality).

import { seededRandom } from '../../src/gossip/random.ts';

/** A sequential specification: states are immutable; `id` names equal states equally. */
export interface Model<S, Op> {
  init: S;
  /** The state after `op` from `state`, or undefined when op's recorded outcome is impossible there. */
  step(state: S, op: Op): S | undefined;
  id(state: S): string;
  describe?(op: Op): string;
}

/** One operation of a history: invoked at `call`, completed at `ret` (Infinity: indeterminate). */
export interface Timed<Op> {
  call: number;
  ret: number;
  op: Op;
  client?: string | number;
}

/** The verdict on one history. */
export type Verdict =
  | { ok: true; steps: number }
  | { ok: false; steps: number; reason: string }
  | { ok: 'unknown'; steps: number; reason: string };

/** Search options: `maxSteps` bounds the work (then the verdict is 'unknown'). */
export interface CheckOptions {
  maxSteps?: number;
}


interface Entries {
  /** Per list node (0 is the head sentinel): op index, and whether it is a call. */
  op: Int32Array;
  isCall: Uint8Array;
  /** Per op: its call node and return node. */
  callNode: Int32Array;
  retNode: Int32Array;
  next: Int32Array;
  prev: Int32Array;
}

/** Calls and returns sorted by time (a call before a return at equal times: concurrent), linked. */
function link<Op>(ops: Timed<Op>[]): Entries {
  const ev: { t: number; call: boolean; op: number }[] = [];
  ops.forEach((o, i) => {
    ev.push({ t: o.call, call: true, op: i });
    ev.push({ t: o.ret, call: false, op: i });
  });
  ev.sort((a, b) => a.t - b.t || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
  const n = ev.length + 1;
  const e: Entries = {
    op: new Int32Array(n), isCall: new Uint8Array(n), callNode: new Int32Array(ops.length), retNode: new Int32Array(ops.length),
    next: new Int32Array(n), prev: new Int32Array(n),
  };
  ev.forEach((x, i) => {
    const node = i + 1;
    e.op[node] = x.op;
    e.isCall[node] = x.call ? 1 : 0;
    if (x.call) e.callNode[x.op] = node;
    else e.retNode[x.op] = node;
  });
  for (let i = 0; i < n; i++) {
    e.next[i] = i + 1 < n ? i + 1 : -1;
    e.prev[i] = i - 1;
  }
  return e;
}

function unlinkNode(e: Entries, node: number): void {
  e.next[e.prev[node]] = e.next[node];
  if (e.next[node] !== -1) e.prev[e.next[node]] = e.prev[node];
}

function relinkNode(e: Entries, node: number): void {
  e.next[e.prev[node]] = node;
  if (e.next[node] !== -1) e.prev[e.next[node]] = node;
}

const lift = (e: Entries, op: number) => { unlinkNode(e, e.callNode[op]); unlinkNode(e, e.retNode[op]); };
const unlift = (e: Entries, op: number) => { relinkNode(e, e.retNode[op]); relinkNode(e, e.callNode[op]); };

/**
 * Memo of explored (linearized set, state) configurations, keyed by a Zobrist hash of the set's
 * determinate ops. A configuration is dominated by a failed one with the same state, the same
 * determinate ops and a subset of its indeterminate ops: whatever completes the former would
 * complete the latter with the extra indeterminate ops placed last (they never complete, so
 * nothing has to follow them). Configurations still on the search path have not failed (the
 * path may be about to complete through the one being added), so they dominate nothing. Without
 * this, k pending indeterminate ops make 2^k linearized sets to explore.
 */
class Memo {
  #seen = new Map<string, MemoEntry[]>();
  readonly #indet: Uint32Array;

  constructor(indet: Uint32Array) {
    this.#indet = indet;
  }

  /** Adds the configuration (open: on the search path); null when a failed one dominates it. */
  add(h1: number, h2: number, stateId: string, bits: Uint32Array): MemoEntry | null {
    const key = `${h1}:${h2}:${stateId}`;
    let bucket = this.#seen.get(key);
    if (!bucket) this.#seen.set(key, (bucket = []));
    const m = this.#indet;
    for (const e of bucket) {
      if (e.open) continue;
      const b = e.bits;
      let dominated = true;
      for (let i = 0; i < b.length && dominated; i++) dominated = (b[i] & ~bits[i]) === 0 && (bits[i] & ~b[i] & ~m[i]) === 0;
      if (dominated) return null;
    }
    const entry = { bits: bits.slice(), open: true };
    bucket.push(entry);
    return entry;
  }
}

interface MemoEntry {
  bits: Uint32Array;
  /** True while the configuration is on the search path. */
  open: boolean;
}

function describeOp<Op>(m: Model<unknown, Op>, o: Timed<Op>): string {
  const what = m.describe ? m.describe(o.op) : JSON.stringify(o.op);
  const end = o.ret === Infinity ? '∞ (indeterminate)' : String(o.ret);
  return `${what} by ${o.client ?? '?'} [${o.call} → ${end}]`;
}

/** The state of one depth-first search for a linearization (Wing & Gong, Lowe's memo). */
class Search<S, Op> {
  readonly #m: Model<S, Op>;
  readonly #ops: Timed<Op>[];
  readonly #e: Entries;
  // Zobrist hashes of the determinate ops (indeterminate ones are compared as subsets by the memo).
  readonly #z1: Uint32Array;
  readonly #z2: Uint32Array;
  readonly #bits: Uint32Array;
  readonly #memo: Memo;
  readonly #stack: { op: number; state: S; memo: MemoEntry }[] = [];
  #state: S;
  #h1 = 0;
  #h2 = 0;
  /** Once every determinate op is placed the rest (indeterminate) can all go last: linearizable. */
  determinateLeft: number;
  /** The deepest point reached, for the failure report. */
  best: { depth: number; blocked: number; state: S };

  constructor(model: Model<S, Op>, ops: Timed<Op>[]) {
    this.#m = model;
    this.#ops = ops;
    this.#e = link(ops);
    // Deterministic 32-bit values for the Zobrist hashes of linearized sets.
    const unit = seededRandom(0x5eed);
    const rnd = () => Math.floor(unit() * 4294967296);
    this.#z1 = Uint32Array.from(ops, (o) => (o.ret === Infinity ? 0 : rnd()));
    this.#z2 = Uint32Array.from(ops, (o) => (o.ret === Infinity ? 0 : rnd()));
    this.#bits = new Uint32Array((ops.length + 31) >>> 5);
    const indet = new Uint32Array(this.#bits.length);
    ops.forEach((o, i) => { if (o.ret === Infinity) indet[i >>> 5] |= 1 << (i & 31); });
    this.#memo = new Memo(indet);
    this.#state = model.init;
    this.best = { depth: -1, blocked: -1, state: model.init };
    this.determinateLeft = ops.filter((o) => o.ret !== Infinity).length;
  }

  get depth(): number { return this.#stack.length; }
  first(): number { return this.#e.next[0]; }
  next(node: number): number { return this.#e.next[node]; }
  isCall(node: number): boolean { return this.#e.isCall[node] === 1; }
  opOf(node: number): number { return this.#e.op[node]; }

  /**
   * Two reductions, each sound because the op left out can go last instead (it never completes):
   * an indeterminate op that changes nothing need not be placed now, and neither need the
   * indeterminate op just placed if the next one does the same without it (a write overwrites it).
   */
  #pointless(op: number, after: S): boolean {
    const m = this.#m;
    if (this.#ops[op].ret === Infinity && m.id(after) === m.id(this.#state)) return true;
    const top = this.#stack.at(-1);
    if (!top || this.#ops[top.op].ret !== Infinity) return false;
    const without = m.step(top.state, this.#ops[op].op);
    return without !== undefined && m.id(without) === m.id(after);
  }

  /** Linearizes `op` next if its outcome fits and the configuration is new; true when placed. */
  place(op: number): boolean {
    const after = this.#m.step(this.#state, this.#ops[op].op);
    if (after === undefined || this.#pointless(op, after)) return false;
    const bits = this.#bits;
    bits[op >>> 5] |= 1 << (op & 31);
    const entry = this.#memo.add(this.#h1 ^ this.#z1[op], this.#h2 ^ this.#z2[op], this.#m.id(after), bits);
    if (!entry) {
      bits[op >>> 5] &= ~(1 << (op & 31));
      return false;
    }
    this.#stack.push({ op, state: this.#state, memo: entry });
    if (this.#ops[op].ret !== Infinity) this.determinateLeft--;
    [this.#state, this.#h1, this.#h2] = [after, this.#h1 ^ this.#z1[op], this.#h2 ^ this.#z2[op]];
    lift(this.#e, op);
    return true;
  }

  /** `blocked` could not be placed before its return: undoes the latest choice; -1 when none is left, else where to go on. */
  backtrack(blocked: number): number {
    if (this.#stack.length > this.best.depth) this.best = { depth: this.#stack.length, blocked, state: this.#state };
    const top = this.#stack.pop();
    if (!top) return -1;
    top.memo.open = false;
    if (this.#ops[top.op].ret !== Infinity) this.determinateLeft++;
    this.#bits[top.op >>> 5] &= ~(1 << (top.op & 31));
    [this.#state, this.#h1, this.#h2] = [top.state, this.#h1 ^ this.#z1[top.op], this.#h2 ^ this.#z2[top.op]];
    unlift(this.#e, top.op);
    return this.#e.next[this.#e.callNode[top.op]];
  }
}

/** Whether `ops` (one object) is linearizable under `model`. */
export function checkLinearizable<S, Op>(model: Model<S, Op>, ops: Timed<Op>[], opts: CheckOptions = {}): Verdict {
  const maxSteps = opts.maxSteps ?? 5_000_000;
  const s = new Search(model, ops);
  let steps = 0;
  let node = s.first();
  while (s.determinateLeft > 0) {
    if (++steps > maxSteps) return { ok: 'unknown', steps, reason: `gave up after ${maxSteps} steps (${s.depth} of ${ops.length} ops linearized)` };
    const op = s.opOf(node);
    if (s.isCall(node)) {
      node = s.place(op) ? s.first() : s.next(node);
      continue;
    }
    node = s.backtrack(op);
    if (node === -1) {
      const blocked = s.best.blocked >= 0 ? describeOp(model as Model<unknown, Op>, ops[s.best.blocked]) : '?';
      return { ok: false, steps, reason: `not linearizable: at best ${s.best.depth} of ${ops.length} ops linearize, then ${blocked} cannot (state ${model.id(s.best.state)})` };
    }
  }
  return { ok: true, steps };
}

/** A register value: a string, or null for an absent key. */
export type RegisterValue = string | null;

/**
 * A register operation. `read` and a `cas` with `ok` carry their observed outcome; a `write`,
 * and a `cas` whose outcome is unknown (`ok` undefined), always apply when they take effect.
 */
export type RegisterOp =
  | { f: 'read'; value: RegisterValue }
  | { f: 'write'; value: RegisterValue }
  | { f: 'cas'; from: RegisterValue; to: RegisterValue; ok?: boolean };

/** The register's sequential specification. */
export const registerModel: Model<RegisterValue, RegisterOp> = {
  init: null,
  step(s, op) {
    switch (op.f) {
      case 'read': return op.value === s ? s : undefined;
      case 'write': return op.value;
      case 'cas':
        if (op.ok === undefined) return s === op.from ? op.to : s;
        if (op.ok) return s === op.from ? op.to : undefined;
        return s === op.from ? undefined : s;
    }
  },
  id: (s) => (s === null ? '∅' : `=${s}`),
  describe: (op) => (op.f === 'cas' ? `cas(${op.from} → ${op.to}) = ${op.ok ?? '?'}` : `${op.f}(${op.value})`),
};

/** One register operation on a key, as recorded by a test client. */
export interface KeyedOp extends Timed<RegisterOp> {
  key: string;
}

/** The per-key verdicts of a register history (each key starts absent unless `initial` says). */
export interface HistoryVerdict {
  ok: boolean;
  keys: { key: string; ops: number; indeterminate: number; verdict: Verdict }[];
  /** One line per key that is not (or could not be shown) linearizable. */
  failures: string[];
}

/**
 * Checks each key's history separately. Indeterminate reads are dropped (they change nothing);
 * every other op with `ret` Infinity may or may not have taken effect.
 */
export function checkRegisterHistory(history: KeyedOp[], opts: CheckOptions & { initial?: Record<string, RegisterValue> } = {}): HistoryVerdict {
  const byKey = new Map<string, KeyedOp[]>();
  for (const o of history) {
    if (o.ret === Infinity && o.op.f === 'read') continue;
    if (!(o.ret >= o.call)) throw new Error(`op ${JSON.stringify(o)} completes before it is invoked`);
    const list = byKey.get(o.key) ?? [];
    list.push(o);
    byKey.set(o.key, list);
  }
  const out: HistoryVerdict = { ok: true, keys: [], failures: [] };
  for (const [key, ops] of [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const model = { ...registerModel, init: opts.initial?.[key] ?? null };
    const verdict = checkLinearizable(model, ops, opts);
    out.keys.push({ key, ops: ops.length, indeterminate: ops.filter((o) => o.ret === Infinity).length, verdict });
    if (verdict.ok !== true) {
      out.ok = false;
      out.failures.push(`${key}: ${verdict.reason}`);
    }
  }
  return out;
}
