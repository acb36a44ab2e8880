// The lane (whole replies laid out by instance) against layout.ts's writer for the same records
// and order: the same bytes, for A and SRV-with-glue entries; entries whose replies are not a
// plain concatenation of blocks (duplicate records, glue shared between instances) get no lane.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Answer } from 'dns-packet';
import { laneOf, writeLane } from './lane.ts';
import { packQuestion, packRecord, type PackedRecord } from './pack.ts';
import { packEntry, type PackedEntry } from './entry.ts';
import { markSimple, SimpleLayout } from './layout.ts';
import { recordKey } from './records.ts';

const Q = 'web.service.consul';

/** Packs per-instance answers and extras as prepared.ts's build() numbers them. */
function entry(type: string, per: { answers: Answer[]; extras: Answer[] }[]): { e: PackedEntry; targets: number; q: ReturnType<typeof packQuestion> } {
  const q = packQuestion(Q, type, 'IN');
  const ids = new Map<string, number>();
  const rec = (r: Answer): PackedRecord => {
    const p = packRecord(r);
    const k = recordKey(r);
    p.id = ids.get(k) ?? (ids.set(k, ids.size), ids.size - 1);
    return p;
  };
  const answers = per.map((i) => i.answers.map(rec));
  const extras = per.map((i) => i.extras.map(rec));
  const targets = markSimple(q, answers, extras);
  return { e: packEntry(answers, extras), targets, q };
}

const a = (ip: string): Answer => ({ type: 'A', name: Q, ttl: 0, class: 'IN', data: ip });
const srv = (node: string, port: number): Answer => ({ type: 'SRV', name: Q, ttl: 0, class: 'IN', data: { target: `${node}.node.dc1.consul`, port, priority: 1, weight: 1 } });
const glue = (node: string, ip: string): Answer => ({ type: 'A', name: `${node}.node.dc1.consul`, ttl: 0, class: 'IN', data: ip });

/** The layout writer's reply for instances in `order` (every record kept). */
function viaLayout(x: ReturnType<typeof entry>, order: number[], opt: number): Buffer {
  const { e } = x;
  const ans = new Int32Array(e.records);
  const ext = new Int32Array(e.records);
  let na = 0;
  let ne = 0;
  for (const i of order) {
    for (let k = e.meta[2 * i]; k < e.meta[2 * i + 1]; k++) ans[na++] = k;
    for (let k = e.meta[2 * i + 1]; k < e.meta[2 * i + 2]; k++) ext[ne++] = k;
  }
  const layout = new SimpleLayout();
  const size = layout.size(x.q, e, ans, na, ext, ne, true, opt >= 0);
  const out = Buffer.alloc(size);
  assert.ok(layout.write(out, x.q, e, ans, na, ext, ne, x.targets, opt));
  return out;
}

function viaLane(x: ReturnType<typeof entry>, srvQ: boolean, order: number[], opt: number, kept = order.length): Buffer {
  const lane = laneOf(x.q, x.e, srvQ, x.targets);
  assert.ok(lane);
  const out = writeLane(lane, order, Buffer.from([0xab, 0xcd]), 0x8500, opt, kept);
  if (kept === order.length) assert.equal(out.length, lane.size + (opt >= 0 ? 11 : 0));
  assert.deepEqual([...out.subarray(0, 4)], [0xab, 0xcd, 0x85, 0x00]);
  out[0] = out[1] = out[2] = out[3] = 0;
  return out;
}

const orders = [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]];

test('A replies from the lane are the layout writer\'s bytes, with and without an OPT', () => {
  const x = entry('A', ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => ({ answers: [a(ip)], extras: [] })));
  for (const order of orders) for (const opt of [-1, 4096]) assert.deepEqual(viaLane(x, false, order, opt), viaLayout(x, order, opt));
});

test('A replies cut to their first answers (UDP without EDNS0) are the layout writer\'s bytes for those answers', () => {
  const x = entry('A', ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => ({ answers: [a(ip)], extras: [] })));
  assert.equal(laneOf(x.q, x.e, false, x.targets)!.full, Q.length + 2 + 14);
  for (const order of orders) for (const kept of [1, 3]) assert.deepEqual(viaLane(x, false, order, -1, kept), viaLayout(x, order.slice(0, kept), -1));
});

test('SRV replies with glue from the lane are the layout writer\'s bytes (glue owners point at their own target wherever it lands)', () => {
  const x = entry('SRV', ['a', 'bb', 'ccc', 'dddd'].map((n, i) => ({ answers: [srv(n, 80 + i)], extras: [glue(n, `10.0.0.${i + 1}`), { type: 'TXT', name: `${n}.node.dc1.consul`, ttl: 0, class: 'IN', data: [`k=${n}`] } as Answer] })));
  for (const order of orders) for (const opt of [-1, 1232]) assert.deepEqual(viaLane(x, true, order, opt), viaLayout(x, order, opt));
});

test('no lane when a record repeats or instances share glue', () => {
  const dupA = entry('A', ['10.0.0.1', '10.0.0.1'].map((ip) => ({ answers: [a(ip)], extras: [] })));
  assert.equal(laneOf(dupA.q, dupA.e, false, dupA.targets), null);
  const shared = entry('SRV', [80, 81].map((port) => ({ answers: [srv('n', port)], extras: [glue('n', '10.0.0.1')] })));
  assert.equal(laneOf(shared.q, shared.e, true, shared.targets), null);
  const ok = entry('SRV', [['n', 80], ['m', 81]].map(([n, port]) => ({ answers: [srv(n as string, port as number)], extras: [glue(n as string, '10.0.0.1')] })));
  assert.ok(laneOf(ok.q, ok.e, true, ok.targets));
});
