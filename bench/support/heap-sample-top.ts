// The allocation sites of a sampling heap profile (bench/fanout.ts --sample-heap), by bytes:
// each site is the allocating function and its nearest callers. Usage:
//   node bench/support/heap-sample-top.ts FILE.heapprofile [TOP=30] [DEPTH=4]
import fs from 'node:fs';

interface Node { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }

const [file, topArg, depthArg] = process.argv.slice(2);
if (!file) throw new Error('usage: heap-sample-top.ts FILE.heapprofile [TOP] [DEPTH]');
const { head } = JSON.parse(fs.readFileSync(file, 'utf8')) as { head: Node };
const depth = Number(depthArg ?? 4);
const sites = new Map<string, number>();
let total = 0;
const frame = (n: Node): string => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
(function walk(n: Node, stack: string[]): void {
  const here = [frame(n), ...stack];
  if (n.selfSize) {
    const key = here.slice(0, depth).join(' ← ');
    sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
  }
  for (const c of n.children) walk(c, here);
})(head, []);
console.log(`${(total / 1e6).toFixed(2)} MB sampled`);
for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 30))) {
  console.log(`${(v / 1e3).toFixed(0).padStart(7)} KB  ${k}`);
}
