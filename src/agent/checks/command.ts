// Running a check's command: spawned without a shell in its own process group, output captured
// into a tail buffer, and on timeout (or stop) the whole process tree killed via kill(-pid).
import { spawn } from 'node:child_process';
import type { Clock } from '../../clock.ts';
import { createTailBuffer, type TailBuffer } from './output.ts';

/** Limits for one command run. */
export interface CommandOptions {
  timeoutMs: number;
  /** Bytes of combined stdout+stderr to keep (the tail). */
  maxOutput: number;
  /** Aborting kills the process tree. */
  signal?: AbortSignal;
}

/** How a command ended. */
export interface CommandResult {
  /** Exit code; null when killed by a signal, timed out or never started. */
  exitCode: number | null;
  /** Combined stdout+stderr (tail). */
  output: TailBuffer;
  timedOut: boolean;
  /** Set when the command could not be started, in Go's words (`exec: "x": executable file not found in $PATH`). */
  startError?: string;
}

/** Runs `file` with `args`; injectable so docker and OS-service checks can be tested without those tools. */
export type CommandRunner = (file: string, args: readonly string[], opts: CommandOptions) => Promise<CommandResult>;

function startErrorText(file: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT' && !file.includes('/')) return `exec: "${file}": executable file not found in $PATH`;
  if (err.code === 'ENOENT') return `fork/exec ${file}: no such file or directory`;
  if (err.code === 'EACCES') return `fork/exec ${file}: permission denied`;
  return err.message;
}

function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

/** The real command runner on the injected clock (Consul's exec.Subprocess + KillCommandSubtree). */
export function processRunner(clock: Clock): CommandRunner {
  return (file, args, opts) => new Promise<CommandResult>((resolve) => {
    const output = createTailBuffer(opts.maxOutput);
    const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    let done = false;
    const finish = (r: Omit<CommandResult, 'output' | 'timedOut'>): void => {
      if (done) return;
      done = true;
      timer.cancel();
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ ...r, output, timedOut });
    };
    const onAbort = (): void => killTree(child.pid);
    const timer = clock.setTimer(opts.timeoutMs, () => {
      timedOut = true;
      killTree(child.pid);
    });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    child.stdout.on('data', (b: Buffer) => output.write(b));
    child.stderr.on('data', (b: Buffer) => output.write(b));
    child.on('error', (err) => finish({ exitCode: null, startError: startErrorText(file, err) }));
    // After a kill, do not wait for pipes a stray grandchild may still hold open.
    child.on('exit', (code) => { if (timedOut || opts.signal?.aborted) finish({ exitCode: code }); });
    child.on('close', (code) => finish({ exitCode: code }));
  });
}
