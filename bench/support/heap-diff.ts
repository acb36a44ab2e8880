// What a server retains per held request: the objects in heap snapshot B that are not in snapshot A
// of the same process (V8 keeps object ids across snapshots), grouped by type, constructor name and
// the object's first property / context-variable names, in bytes and objects per `n` (e.g. the
// number of requests held between the two snapshots). Snapshots from bench/fanout-memory.ts
// --snapshot DIR. Usage:
//   node --max-old-space-size=4096 bench/support/heap-diff.ts A.heapsnapshot B.heapsnapshot N [TOP=50]
import fs from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const [fileA, fileB, nArg, topArg] = process.argv.slice(2);
if (!fileA || !fileB || !nArg) throw new Error('usage: heap-diff.ts A.heapsnapshot B.heapsnapshot N [TOP]');
const per = Number(nArg);
const read = (f: string): Snapshot => JSON.parse(fs.readFileSync(f, 'utf8')) as Snapshot;

const oldIds = new Set<number>();
{
  const a = read(fileA);
  const nf = a.snapshot.meta.node_fields;
  for (let i = nf.indexOf('id'); i < a.nodes.length; i += nf.length) oldIds.add(a.nodes[i]);
}
const b = read(fileB);
const { node_fields: nf, node_types: [types], edge_fields: ef, edge_types: [edgeTypes] } = b.snapshot.meta;
const [iType, iName, iId, iSize, iEdges] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => nf.indexOf(f));
const [eType, eName] = ['type', 'name_or_index'].map((f) => ef.indexOf(f));
const NAMELESS = new Set(['string', 'concatenated string', 'sliced string', 'number', 'heap number']);
const groups = new Map<string, { n: number; bytes: number }>();
let edge = 0;
for (let i = 0; i < b.nodes.length; i += nf.length) {
  const edgeCount = b.nodes[i + iEdges];
  if (!oldIds.has(b.nodes[i + iId])) {
    const type = types[b.nodes[i + iType]];
    const name = NAMELESS.has(type) ? '' : b.strings[b.nodes[i + iName]].slice(0, 40);
    let props = '';
    if (type === 'object' || type === 'closure') {
      const names: string[] = [];
      for (let e = edge; e < edge + edgeCount * ef.length && names.length < 10; e += ef.length) {
        const et = edgeTypes[b.edges[e + eType]];
        const en = b.strings[b.edges[e + eName]];
        if ((et === 'property' || et === 'context') && en !== '__proto__' && en !== 'map') names.push(en);
      }
      props = names.join(',');
    }
    const key = `${type.padStart(9)} ${name} [${props}]`;
    const g = groups.get(key) ?? { n: 0, bytes: 0 };
    g.n++;
    g.bytes += b.nodes[i + iSize];
    groups.set(key, g);
  }
  edge += edgeCount * ef.length;
}
const rows = [...groups].sort((x, y) => y[1].bytes - x[1].bytes);
const total = rows.reduce((s, [, g]) => s + g.bytes, 0);
console.log(`new objects: ${total} bytes, ${(total / per).toFixed(0)} bytes each of ${per}; per one of ${per}:`);
for (const [key, g] of rows.slice(0, Number(topArg ?? 50))) {
  console.log(`${(g.bytes / per).toFixed(1).padStart(8)} B ${(g.n / per).toFixed(2).padStart(6)} obj  ${key.slice(0, 160)}`);
}
