// Which of our src/ modules an `agent -dev` start loads without running a single one of their
// functions before its first 200 (issue #9): V8's precise coverage taken at that answer (the
// start's own code: a module whose only run code is its top level), listed by size with the
// modules that import them (`*` marks an importer some function of which ran). Candidates for
// loading on first use; the first 200 is on /v1/status/leader, with DNS on a port as `-dev` serves it.
//
//   npx node bench/startup-coverage.ts            # this checkout
//   npx node bench/startup-coverage.ts --tree DIR # another worktree (e.g. to compare module counts)
//   --json FILE  also writes the per-module rows
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/support/etcd.ts';
import { sleep } from './support/proc.ts';

const { values: opts } = parseArgs({ options: { tree: { type: 'string' }, json: { type: 'string' } } });
const TREE = fs.realpathSync(opts.tree ?? path.resolve(import.meta.dirname, '..'));
const SRC = path.join(TREE, 'src');

/** One of our modules as the start left it. */
interface ModuleRow { rel: string; size: number; functions: number; ran: number }

interface ScriptCoverage { url: string; functions: { functionName: string; ranges: { startOffset: number; count: number }[] }[] }

/** Runs one `agent -dev` of TREE until its first 200 and returns the coverage V8 wrote then. */
async function coverageAtFirst200(dir: string): Promise<ScriptCoverage[]> {
  const port = await freePort();
  const flags: string[] = [];
  for (const f of ['-dns-port', '-grpc-port', '-grpc-tls-port', '-serf-lan-port', '-serf-wan-port', '-server-port']) {
    flags.push(f, String(f.startsWith('-grpc') ? -1 : await freePort()));
  }
  const doneFile = path.join(dir, 'DONE');
  const hook = path.join(import.meta.dirname, 'support', 'coverage-hook.ts');
  const args = ['--import', hook, path.join(TREE, 'bin', 'proconsul.js'), 'agent', '-dev', '-node', 'coverage', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-http-port', String(port), ...flags, '-log-level', 'error'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_V8_COVERAGE: dir, COVERAGE_DONE: doneFile } });
  try {
    for (let t0 = Date.now(); !fs.existsSync(doneFile); await sleep(5)) {
      if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}`);
      if (Date.now() - t0 > 30_000) throw new Error('no 200 within 30 s');
      await new Promise<void>((resolve) => http.get({ host: '127.0.0.1', port, path: '/v1/status/leader', agent: false }, (r) => { r.resume(); resolve(); }).on('error', () => resolve()));
    }
  } finally {
    child.kill('SIGKILL');
  }
  const file = fs.readdirSync(dir).find((f) => f.startsWith('coverage-'))!;
  return (JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { result: ScriptCoverage[] }).result;
}

/** Our modules in the coverage, each with how many of its functions (not counting its top level) ran. */
function moduleRows(scripts: ScriptCoverage[]): ModuleRow[] {
  const prefix = `file://${SRC}/`;
  return scripts.filter((s) => s.url.startsWith(prefix)).map((s) => {
    const fns = s.functions.filter((f) => !(f.functionName === '' && f.ranges[0].startOffset === 0));
    const rel = s.url.slice(prefix.length);
    return { rel, size: fs.statSync(path.join(SRC, rel)).size, functions: fns.length, ran: fns.filter((f) => f.ranges[0].count > 0).length };
  });
}

const IMPORT = /^\s*(?:import|export)\s+(?!type\b)([^;]*?)\s*from\s*'(\.[^']+\.ts)'|^\s*import\s+'(\.[^']+\.ts)'/gm;

/** Importers among the loaded modules, by module: static value imports and re-exports only (`import type` and all-type lists are erased). */
function importers(rows: ModuleRow[]): Map<string, string[]> {
  const loaded = new Set(rows.map((r) => r.rel));
  const out = new Map<string, string[]>();
  for (const r of rows) {
    for (const m of fs.readFileSync(path.join(SRC, r.rel), 'utf8').matchAll(IMPORT)) {
      const names = m[1];
      if (names && /^\{[^}]*\}$/s.test(names) && names.slice(1, -1).split(',').every((x) => !x.trim() || x.trim().startsWith('type '))) continue;
      const target = path.relative(SRC, path.resolve(path.dirname(path.join(SRC, r.rel)), m[2] ?? m[3]));
      if (loaded.has(target)) out.set(target, [...(out.get(target) ?? []), r.rel]);
    }
  }
  return out;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'startup-coverage-'));
try {
  const scripts = await coverageAtFirst200(dir);
  const rows = moduleRows(scripts);
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(rows));
  const ran = new Map(rows.map((r) => [r.rel, r.ran > 0]));
  const unused = rows.filter((r) => r.ran === 0).sort((a, b) => b.size - a.size);
  const kb = (xs: ModuleRow[]) => (xs.reduce((s, r) => s + r.size, 0) / 1024).toFixed(0);
  const nodeModules = scripts.filter((s) => s.url.includes('/node_modules/')).length;
  console.log(`${TREE}: ${rows.length} of our modules (${kb(rows)} KB) and ${nodeModules} from node_modules loaded by the first 200; ` +
    `${unused.length} of ours (${kb(unused)} KB) ran no function (${unused.filter((r) => r.functions === 0).length} of them have none: data, barrels)`);
  const by = importers(rows);
  for (const r of unused) {
    const from = (by.get(r.rel) ?? []).map((x) => `${ran.get(x) ? '*' : ''}${x}`).join(' ');
    console.log(`${String(r.size).padStart(7)}  ${r.rel.padEnd(40)} ${from}`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
