// One `npm run bench` run as a bench/RESULTS.md section: the date, the machine (cores, CPU model,
// memory, Node, load average), the commit (and whether the work tree had uncommitted changes),
// each benchmark's command, time and ratio line, and its full stdout (the figures).
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { describeCosts, machineCosts } from './machine-probe.ts';

/** What run-all measured for one benchmark. */
export interface BenchOutcome {
  name: string;
  command: string;
  seconds: number;
  /** Exit code, or a reason the benchmark did not run. */
  status: number | null | string;
  /** The ratio line (the script's last stdout line), or why there is none. */
  ratio: string;
  stdout: string;
}

/** What the section says about the run as a whole. */
export interface RunInfo {
  command: string;
  startedAt: Date;
  seconds: number;
  loadBefore: number;
  loadAfter: number;
  /** Free text from --note, e.g. that the machine was shared. */
  note?: string;
}

function git(args: string[], cwd: string): string | null {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The commit the work tree is at, with the count of tracked files that differ from it. */
export function commitOf(repo: string): string {
  const head = git(['rev-parse', '--short', 'HEAD'], repo);
  if (!head) return 'unknown (not a git checkout)';
  const dirty = git(['status', '--porcelain', '--untracked-files=no'], repo)?.split('\n').filter(Boolean).length ?? 0;
  return dirty ? `${head} plus uncommitted changes in ${dirty} tracked file(s)` : head;
}

/**
 * The machine as one line: cores, CPU model, memory, Node, kernel, and what a page fault, a
 * syscall and a bare Node start cost on it (VMs of one size differ up to 10× in those).
 */
export function machineOf(): string {
  const cpus = os.cpus();
  return `${cpus.length} CPUs (${cpus[0]?.model ?? 'unknown model'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ` +
    `Node ${process.version}, ${os.type()} ${os.release()}; ${describeCosts(machineCosts())}`;
}

const utc = (d: Date): string => d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/** The Markdown section for bench/RESULTS.md. */
export function resultsSection(run: RunInfo, outcomes: BenchOutcome[], repo: string): string {
  const lines = [
    `## \`${run.command}\` — ${utc(run.startedAt)}`,
    '',
    `- Machine: ${machineOf()}; 1-min load average ${run.loadBefore.toFixed(2)} before, ${run.loadAfter.toFixed(2)} after.`,
    `- Commit: ${commitOf(repo)}.`,
    `- Total ${run.seconds.toFixed(0)} s.`,
    ...(run.note ? [`- Note: ${run.note}`] : []),
    '',
    '| benchmark | command | s | exit | ratio (last line) |',
    '|:--|:--|--:|:--|:--|',
    ...outcomes.map((o) => `| ${o.name} | \`${o.command}\` | ${o.seconds.toFixed(0)} | ${o.status ?? 'signal'} | ${o.ratio.replaceAll('|', '\\|')} |`),
    '',
  ];
  for (const o of outcomes) {
    if (!o.stdout.trim()) continue;
    lines.push(`<details><summary>${o.name}: full output</summary>`, '', '```', o.stdout.trim(), '```', '', '</details>', '');
  }
  return lines.join('\n');
}
