// `npm run bench`: every benchmark of issue 9 in sequence, each in its own Node process, at the
// issue's sizes where they fit in a few minutes on 2 cores: KV at 1/16/64/256 clients with 1 s
// cells (both backends, Store-direct, etcd3 on 1 and 3 members), DNS 1 s per run and 1 round,
// fan-out at 10,000 health + 10,000 KV watchers over HTTP/1.1 and 50,000 + 10,000 over HTTP/2
// streams (--full), catalog at 10,000 nodes × 10 instances, failover of the managed datacenter
// over 5 trials beside raw etcd, startup median of 10, client forwarding 2 s cells. Each script's
// output streams through; its last stdout line must be its ratio line (a run whose last line is
// not is reported as failed). At the end one line per benchmark with its ratio line, the last
// line naming all of them; the exit code is 1 when any benchmark failed. Benchmarks whose
// external programs are missing (etcd, unbound, dnsmasq) are skipped and say so.
//
//   node bench/run-all.ts            # ~6–10 min (depends on how busy the machine is)
//   node bench/run-all.ts --quick    # every benchmark at its smallest size, a smoke run (~3–4 min)
//   node bench/run-all.ts --only fanout,catalog
//   node bench/run-all.ts --record [--note 'shared machine: …']
//                                    # also appends a dated section to bench/RESULTS.md: machine,
//                                    # commit, each command, its ratio line and full output
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resultsSection, type BenchOutcome } from './support/run-record.ts';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    record: { type: 'boolean', default: false },
    note: { type: 'string' },
  },
});

/** One benchmark run: its script, arguments and the programs it needs on PATH. */
interface Bench { name: string; script: string; args: string[]; needs: string[] }

const q = opts.quick;
const BENCHES: Bench[] = [
  { name: 'kv', script: 'kv.ts', args: q ? ['--quick'] : ['--clients', '1,16,64,256', '--duration', '1000', '--warmup', '300'], needs: ['etcd'] },
  { name: 'dns', script: 'dns.ts', args: ['1', '32', '1'], needs: ['unbound', 'dnsmasq'] },
  { name: 'fanout', script: 'fanout.ts', args: q ? ['--quick'] : [], needs: [] },
  { name: 'fanout-h2', script: 'fanout.ts', args: q ? ['--quick', '--h2'] : ['--full'], needs: [] },
  { name: 'catalog', script: 'catalog.ts', args: q ? ['--quick'] : [], needs: [] },
  { name: 'failover', script: 'failover.ts', args: q ? ['--quick'] : ['--trials', '5', '--modes', 'managed'], needs: ['etcd'] },
  { name: 'startup', script: 'startup.ts', args: q ? ['--quick'] : [], needs: [] },
  { name: 'client-forward', script: 'client-forward.ts', args: [q ? '1' : '2'], needs: [] },
];

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, program)));
}

function commandOf(b: Bench): string {
  return `node bench/${b.script}${b.args.length ? ' ' + b.args.join(' ') : ''}`;
}

function run(b: Bench): Promise<BenchOutcome> {
  const t0 = Date.now();
  const missing = b.needs.filter((p) => !onPath(p));
  if (missing.length) {
    const why = `skipped: ${missing.join(', ')} not on PATH`;
    return Promise.resolve({ name: b.name, command: commandOf(b), seconds: 0, status: why, ratio: `(${why})`, stdout: '' });
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, b.script), ...b.args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { process.stdout.write(c); out += c.toString(); });
    child.on('close', (code, signal) => {
      const last = out.trim().split('\n').at(-1)?.trim() ?? '';
      const ratio = /^ratio/i.test(last) ? last : `(last line is not a ratio line: ${last.slice(0, 120) || 'no output'})`;
      const status = signal ? `killed by ${signal}` : code;
      resolve({ name: b.name, command: commandOf(b), seconds: (Date.now() - t0) / 1000, status, ratio, stdout: out });
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

const failed = (o: BenchOutcome): boolean => (typeof o.status !== 'string' && o.status !== 0) || o.ratio.startsWith('(last line');
const only = opts.only?.split(',');
const started = new Date();
const loadBefore = os.loadavg()[0];
const outcomes: BenchOutcome[] = [];
for (const b of BENCHES.filter((x) => !only || only.includes(x.name))) {
  console.log(`\n=== ${b.name}: ${commandOf(b)}`);
  outcomes.push(await run(b));
}
console.log('\n=== summary');
for (const o of outcomes) {
  const status = o.status === 0 ? '' : `, ${typeof o.status === 'string' ? o.status : `exit ${o.status}`}`;
  console.log(`${o.name} (${o.seconds.toFixed(0)} s${status}): ${o.ratio}`);
}
if (opts.record) {
  const repo = path.resolve(import.meta.dirname, '..');
  const command = ['node bench/run-all.ts', ...(opts.quick ? ['--quick'] : []), ...(opts.only ? ['--only', opts.only] : [])].join(' ');
  const section = resultsSection({
    command, startedAt: started, seconds: (Date.now() - started.getTime()) / 1000, loadBefore, loadAfter: os.loadavg()[0], note: opts.note,
  }, outcomes, repo);
  fs.appendFileSync(path.join(import.meta.dirname, 'RESULTS.md'), '\n' + section);
  console.log('recorded in bench/RESULTS.md');
}
process.exitCode = outcomes.some(failed) ? 1 : 0;
console.log(`ratios: ${outcomes.map((o) => `${o.name} ${typeof o.status === 'string' ? 'skipped' : shortRatio(o.ratio)}`).join(' | ')}`);
