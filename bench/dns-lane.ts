// CPU per reply of lane.ts's writeLane alone (no sockets, no lookup), for one or more source trees
// alternated in one process: a 10-instance A lane (210-byte replies) and a 10-instance SRV lane
// with A and TXT glue (1,010 bytes), 1,000,000 replies per tree and type per round, EDNS0 4096.
// Usage: node bench/dns-lane.ts tree... (e.g. a `git archive` of an older commit, and `.`)
import path from 'node:path';
import type { Answer } from 'dns-packet';
import { packQuestion, packRecord, type PackedRecord } from '../src/dns/pack.ts';
import { packEntry } from '../src/dns/entry.ts';
import { markSimple } from '../src/dns/layout.ts';
import { recordKey } from '../src/dns/records.ts';
const trees = (process.argv.length > 2 ? process.argv.slice(2) : ['.']).map((t) => path.resolve(t));
const mods = await Promise.all(trees.map((t) => import(`${t}/src/dns/lane.ts`)));
const Q = 'svc123.service.consul';
function entry(type: string, per: { answers: Answer[]; extras: Answer[] }[]) {
  const q = packQuestion(Q, type, 'IN');
  const ids = new Map<string, number>();
  const rec = (r: Answer): PackedRecord => { const p = packRecord(r); const k = recordKey(r); p.id = ids.get(k) ?? (ids.set(k, ids.size), ids.size - 1); return p; };
  const answers = per.map((i) => i.answers.map(rec));
  const extras = per.map((i) => i.extras.map(rec));
  const targets = markSimple(q, answers, extras);
  return { e: packEntry(answers, extras), targets, q };
}
const ips = Array.from({ length: 10 }, (_, i) => `10.0.123.${i + 1}`);
const A = entry('A', ips.map((ip) => ({ answers: [{ type: 'A', name: Q, ttl: 0, class: 'IN', data: ip } as Answer], extras: [] })));
const S = entry('SRV', ips.map((ip, i) => ({ answers: [{ type: 'SRV', name: Q, ttl: 0, class: 'IN', data: { target: `0a007b0${i}.addr.dc1.consul`, port: 8000 + i, priority: 1, weight: 1 } } as Answer], extras: [{ type: 'A', name: `0a007b0${i}.addr.dc1.consul`, ttl: 0, class: 'IN', data: ip } as Answer, { type: 'TXT', name: `0a007b0${i}.addr.dc1.consul`, ttl: 0, class: 'IN', data: ['consul-network-segment='] } as Answer] })));
const order = new Int32Array(10); const msg = Buffer.from([1, 2]);
for (let round = 0; round < 5; round++) {
  const out: string[] = [];
  for (const [k, m] of mods.entries()) {
    for (const [name, x, srv] of [['A', A, false], ['SRV', S, true]] as const) {
      const lane = m.laneOf(x.q, x.e, srv, x.targets);
      let s = 0;
      const t = process.hrtime.bigint();
      for (let i = 0; i < 1e6; i++) { for (let j = 0; j < 10; j++) order[j] = (j + i) % 10; s += m.writeLane(lane, order, msg, 0x8500, 4096).length; }
      out.push(`${k}:${name} ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)}ns (${s / 1e6}B)`);
    }
  }
  console.log(out.join('  '));
}
