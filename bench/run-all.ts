// `npm run bench`: every benchmark in sequence, each in its own Node process at a size that
// keeps the whole run to a few minutes on 2 cores (KV --quick, DNS 1 s per run and 1 round, fan-out at
// 10,000 health watchers over HTTP/1.1 and 50,000 over HTTP/2 streams (--full, ~30 s), catalog at 10,000 instances, failover 3 trials, startup 10 runs, client forwarding 2 s cells). Each script's output streams through;
// at the end one line per benchmark with its ratio line, the last line naming all of them.
//
//   node bench/run-all.ts            # ~2–3 min
//   node bench/run-all.ts --quick    # every benchmark at its smallest size (~1.5 min)
//   node bench/run-all.ts --only fanout,catalog
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});

/** One benchmark run: its script and arguments. */
interface Bench { name: string; script: string; args: string[] }

const BENCHES: Bench[] = [
  { name: 'kv', script: 'kv.ts', args: ['--quick'] },
  { name: 'dns', script: 'dns.ts', args: ['1', '32', '1'] },
  { name: 'fanout', script: 'fanout.ts', args: opts.quick ? ['--quick'] : [] },
  { name: 'fanout-h2', script: 'fanout.ts', args: opts.quick ? ['--quick', '--h2'] : ['--full'] },
  { name: 'catalog', script: 'catalog.ts', args: ['--quick'] },
  { name: 'failover', script: 'failover.ts', args: opts.quick ? ['--quick'] : ['--trials', '3'] },
  { name: 'startup', script: 'startup.ts', args: opts.quick ? ['--quick'] : [] },
  { name: 'client-forward', script: 'client-forward.ts', args: [opts.quick ? '1' : '2'] },
];

function run(b: Bench): Promise<{ code: number | null; ratio: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, b.script), ...b.args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { process.stdout.write(c); out += c.toString(); });
    child.on('exit', (code) => {
      const lines = out.trim().split('\n').filter((l) => /ratio/i.test(l));
      resolve({ code, ratio: lines.at(-1)?.trim() ?? '(no ratio line)', seconds: (Date.now() - t0) / 1000 });
    });
  });
}

/** The headline number of a ratio line: the first `= x` (not `>=`), else its first decimal. */
function shortRatio(line: string): string {
  const eq = /(?<![<>])=\s*([\d.]+|n\/a)/.exec(line);
  if (eq) return eq[1];
  const unbound = /proconsul\/unbound:?\s*(?:A\s*)?([\d.]+)/.exec(line);
  if (unbound) return `${unbound[1]} (vs unbound)`;
  const nums = line.match(/\d+\.\d+/g);
  return nums?.[0] ?? 'n/a';
}

const only = opts.only?.split(',');
const summary: string[] = [];
const headline: string[] = [];
for (const b of BENCHES.filter((x) => !only || only.includes(x.name))) {
  console.log(`\n=== ${b.name}: node bench/${b.script} ${b.args.join(' ')}`);
  const r = await run(b);
  summary.push(`${b.name} (${r.seconds.toFixed(0)} s${r.code ? `, exit ${r.code}` : ''}): ${r.ratio}`);
  headline.push(`${b.name} ${shortRatio(r.ratio)}`);
}
console.log('\n=== summary');
for (const s of summary) console.log(s);
console.log(`ratios: ${headline.join(' | ')}`);
