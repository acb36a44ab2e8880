// What this machine charges for the things a Node server pays for outside its own code, so that
// figures from different sessions' machines can be told apart: one page fault (first touch of fresh
// anonymous memory), one system call, and a bare `node -e 0` from spawn to exit. Two 2-core VMs of
// the same size differed 10× in the first two (an Intel VM and an AMD PVM guest: 14 µs per page
// fault, 1.1 µs per syscall), and bare Node's start 3× (bench/RESULTS.md, 2026-11-27 05:40 UTC).
//   node bench/support/machine-probe.ts      # prints the one line run-all records
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface MachineCosts {
  /** µs per page fault on fresh anonymous memory (median of 3 passes over 32 MiB). */
  pageFaultUs: number;
  /** µs per getuid() system call through Node (binding overhead included; median of 3). */
  syscallUs: number;
  /** ms from spawn to exit of `node -e 0` with this Node (median of 5). */
  bareNodeMs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const PAGE = 4096;

function pageFaultUs(): number {
  const bytes = 32 * 1024 * 1024;
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    // Above glibc's mmap threshold: fresh pages from the kernel, each faulted on its first write.
    const buf = Buffer.allocUnsafeSlow(bytes);
    const t0 = performance.now();
    for (let i = 0; i < bytes; i += PAGE) buf[i] = 1;
    runs.push(((performance.now() - t0) * 1000) / (bytes / PAGE));
  }
  return median(runs);
}

function syscallUs(): number {
  const n = 200_000;
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) process.getuid?.();
    runs.push(((performance.now() - t0) * 1000) / n);
  }
  return median(runs);
}

function bareNodeMs(): number {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    runs.push(performance.now() - t0);
  }
  return median(runs);
}

/** Measures the three costs (≈ 1 s). */
export function machineCosts(): MachineCosts {
  return { pageFaultUs: pageFaultUs(), syscallUs: syscallUs(), bareNodeMs: bareNodeMs() };
}

/** The costs as run-all's machine line says them. */
export function describeCosts(c: MachineCosts): string {
  return `page fault ${c.pageFaultUs.toFixed(2)} µs, syscall ${c.syscallUs.toFixed(2)} µs, \`node -e 0\` ${c.bareNodeMs.toFixed(0)} ms`;
}

// Run as a script (Node 22 has no import.meta.main).
if (process.argv[1] && import.meta.filename === process.argv[1]) console.log(describeCosts(machineCosts()));
