// The child of `proconsul lock`: started through the shell with CONSUL_LOCK_HELD=true, its end
// reported with Go's os/exec texts, and Consul's SIGTERM-then-SIGKILL termination.

import { spawn, type ChildProcess } from 'node:child_process';
import { formatGoDuration } from './flags.ts';
import type { CliIO } from './io.ts';

/** Time between SIGTERM and SIGKILL for a child whose lock was lost (Consul's lockKillGracePeriod). */
export const LOCK_KILL_GRACE_PERIOD = 5_000;

/** How the child is run. */
export interface ChildSpec {
  /** The child command words; joined for the shell. */
  child: string[];
  shell: boolean;
  passStdin: boolean;
}

/** Error and verbose output. */
export interface ChildOut {
  error(s: string): void;
  verbose(s: string): void;
}

const GO_SIGNAL_TEXT: Partial<Record<NodeJS.Signals, string>> = {
  SIGTERM: 'terminated', SIGKILL: 'killed', SIGINT: 'interrupt', SIGHUP: 'hangup', SIGQUIT: 'quit',
  SIGABRT: 'aborted', SIGSEGV: 'segmentation fault', SIGPIPE: 'broken pipe', SIGUSR1: 'user defined signal 1', SIGUSR2: 'user defined signal 2',
};

/** Go's os/exec error text for a failed start. */
function startError(err: NodeJS.ErrnoException, file: string): string {
  if (err.code === 'ENOENT' && !file.includes('/')) return `exec: ${JSON.stringify(file)}: executable file not found in $PATH`;
  const what = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
  return `fork/exec ${file}: ${what}`;
}

/** A started child (without a pid when it could not start) and its end: null for a clean exit, else Go's error text. */
export interface Child {
  proc: ChildProcess;
  exited: Promise<string | null>;
}

/**
 * Starts the child with CONSUL_LOCK_HELD=true, through `$SHELL -c` (default /bin/sh) unless
 * -shell=false. Run for real, it shares our stdio as Consul's child does; with an in-memory
 * io (tests, embedding) its output is piped into that io.
 */
export function startChild(s: ChildSpec, io: CliIO, out: ChildOut): Child {
  out.verbose('Starting handler');
  const [file, args] = s.shell ? [io.env.SHELL || '/bin/sh', ['-c', s.child.join(' ')]] : [s.child[0], s.child.slice(1)];
  const real = io.stdin === process.stdin;
  if (s.passStdin) out.verbose('Stdin passed to handler process');
  const stdin = s.passStdin ? (real ? 'inherit' : 'pipe') : 'ignore';
  const proc = spawn(file, args, { env: { ...io.env, CONSUL_LOCK_HELD: 'true' }, stdio: [stdin, real ? 'inherit' : 'pipe', real ? 'inherit' : 'pipe'] });
  if (!real) {
    proc.stdout?.setEncoding('utf8').on('data', (c: string) => io.stdout(c));
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => io.stderr(c));
    if (proc.stdin) io.stdin.pipe(proc.stdin).on('error', () => undefined);
  }
  let done = false;
  const exited = new Promise<string | null>((resolve) => {
    proc.once('error', (err: NodeJS.ErrnoException) => {
      if (done) return;
      done = true;
      out.error(`Error starting handler: ${startError(err, file)}`);
      resolve(startError(err, file));
    });
    proc.once(real ? 'exit' : 'close', (code: number | null, sig: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      if (code === 0) return resolve(null);
      const text = sig ? `signal: ${GO_SIGNAL_TEXT[sig] ?? sig}` : `exit status ${code}`;
      out.error(`Error running handler: ${text}`);
      resolve(text);
    });
  });
  return { proc, exited };
}

/** Whether the child was started and has not ended yet. */
export function running(proc: ChildProcess): boolean {
  return proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null;
}

/** SIGTERM, then SIGKILL if the child outlives the grace period (Consul's killChild). */
export async function killChild(child: Child, out: ChildOut): Promise<void> {
  const proc = child.proc;
  if (proc.pid === undefined) return out.verbose('No child process to kill');
  out.verbose(`Terminating child pid ${proc.pid}`);
  if (running(proc)) proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<boolean>((r) => { timer = setTimeout(() => r(true), LOCK_KILL_GRACE_PERIOD); });
  const over = await Promise.race([child.exited.then(() => false), graceOver]);
  clearTimeout(timer);
  if (!over) return out.verbose('Child terminated');
  out.verbose(`Child did not exit after grace period of ${formatGoDuration(LOCK_KILL_GRACE_PERIOD)}`);
  out.verbose(`Killing child pid ${proc.pid}`);
  if (running(proc)) proc.kill('SIGKILL');
}
