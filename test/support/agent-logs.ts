// Logs of the agent processes a test starts: one file per node in a temp directory (each launch
// appends, after a line naming it), their tails printed to stderr when a test fails or times out
// (the files are then kept), removed otherwise: a stall in CI leaves a timeline.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** Characters of each agent's log printed on a failure (about the last 40 info lines). */
const TAIL_CHARS = 12_000;

/** `running`, or how the agent process ended (an agent that could not bind a port exits with code 1). */
export function processState(child: ChildProcess | null): string {
  if (!child) return 'not started';
  if (child.exitCode !== null) return `exited with code ${child.exitCode}`;
  return child.signalCode !== null ? `killed by ${child.signalCode}` : 'running';
}

/** Whether test `t` failed or timed out (Node sets TestContext.passed; @types/node 24 lacks it). */
export function testFailed(t: TestContext): boolean {
  return !(t as TestContext & { passed: boolean }).passed;
}

/** The log files of one test file's agents. */
export class AgentLogs {
  readonly dir: string;
  #keep: boolean;

  /** A temp directory named after `name`; `keep`: never removed (a debugging run). */
  constructor(name: string, keep = false) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `proconsul-${name}-logs-`));
    this.#keep = keep;
  }

  /** Where `node`'s output goes. */
  file(node: string): string {
    return path.join(this.dir, `${node}.log`);
  }

  /** An append-mode descriptor of `node`'s log, `launch <node> <note>` written first; close it once spawned. */
  open(node: string, note: string): number {
    const fd = fs.openSync(this.file(node), 'a');
    fs.writeSync(fd, `--- ${new Date().toISOString()} launch ${node} ${note}\n`);
    return fd;
  }

  /** Prints `why`, the directory and the tail of each node's log (its latest process's state) to stderr; keeps the logs. */
  report(why: string, agents: { node: string; child: ChildProcess | null }[]): void {
    this.#keep = true;
    const latest = new Map(agents.map((a) => [a.node, a]));
    const tails = [...latest.values()].map((a) => {
      let text = '';
      try { text = fs.readFileSync(this.file(a.node), 'utf8'); } catch { /* never launched */ }
      return `--- ${a.node} (${processState(a.child)}; last ${Math.min(text.length, TAIL_CHARS)} of ${text.length} chars)\n${text.slice(-TAIL_CHARS)}`;
    });
    process.stderr.write(`# ${why} at ${new Date().toISOString()}; agent logs in ${this.dir}\n${tails.join('\n')}\n`);
  }

  /** Removes the logs unless a report kept them (or they were to be kept). */
  remove(): void {
    if (!this.#keep) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
