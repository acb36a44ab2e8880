// `proconsul lock`: hold a lock (-n=1) or a semaphore slot (-n>1) under a KV prefix and run a
// child only while it is held, as `consul lock` does: SIGTERM then SIGKILL on loss, release and
// cleanup when the child exits, Consul's messages and exit codes.

import { posix } from 'node:path';
import { ConfigError, LockError, type ConsulClient } from '../api/index.ts';
import { HTTP_FLAGS, clientFromFlags } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { killChild, running, startChild } from './lock-child.ts';

// The command waits 1s between monitor retries (the API's default is 2s), as `consul lock` does.
const DEFAULT_MONITOR_RETRY_TIME = 1_000;

/** Where shutdown comes from: the first request aborts `signal`; every signal is also forwarded to the child. */
export interface Shutdown {
  signal: AbortSignal;
  forward: Set<(sig: NodeJS.Signals) => void>;
}

interface Settings {
  limit: number;
  prefix: string;
  child: string[];
  name: string;
  timeout: number;
  monitorRetry: number;
  passStdin: boolean;
  shell: boolean;
  verbose: boolean;
  propagate: boolean;
}

/** A lock or a semaphore behind one shape (Consul's LockUnlock). */
interface LockUnlock {
  lock(stop: AbortSignal): Promise<AbortSignal | null>;
  unlock(): Promise<void>;
  cleanup(): Promise<void>;
}

type Out = ReturnType<typeof ui> & { verbose(s: string): void };

/** Validates the arguments with Consul's messages; a number is the exit code of a refusal. */
function settings(values: Record<string, unknown>, given: Set<string>, args: string[], out: Out): Settings | number {
  const limit = Number(values.n);
  if (limit <= 0) return fail(out, 'Lock holder limit must be positive');
  if (args.length < 2) return fail(out, 'Key prefix and child command must be specified');
  const prefix = args[0].replace(/^\//, '');
  // -try is the deprecated spelling of -timeout; as in Go both set one value, the last one given wins.
  const last = [...given].filter((n) => n === 'try' || n === 'timeout').at(-1);
  const timeout = last ? Number(values[last]) : 0;
  if (timeout < 0) return fail(out, 'Timeout must be positive');
  const monitorRetry = Number(values['monitor-retry']);
  if (monitorRetry < 0) return fail(out, "Number for 'monitor-retry' must be >= 0");
  const child = args.slice(1);
  return {
    limit, prefix, child, timeout, monitorRetry,
    name: String(values.name || `Consul lock for '${child.join(' ')}' at '${prefix}'`),
    passStdin: values['pass-stdin'] === true, shell: values.shell !== false,
    verbose: values.verbose === true, propagate: values['child-exit-code'] === true,
  };
}

function fail(out: Out, message: string): number {
  out.error(message);
  return 1;
}

/** Builds the Lock (at `<prefix>/.lock`, so a lock and a semaphore on one prefix conflict) or the Semaphore. */
function setup(client: ConsulClient, s: Settings, out: Out): LockUnlock {
  const oneshot = s.timeout > 0;
  if (s.limit === 1) {
    const key = posix.join(s.prefix, '.lock');
    out.verbose(`Setting up lock at path: ${key}`);
    const l = client.lockOpts({
      key, sessionName: s.name, monitorRetries: s.monitorRetry, monitorRetryTime: DEFAULT_MONITOR_RETRY_TIME,
      ...(oneshot ? { lockTryOnce: true, lockWaitTime: s.timeout } : {}),
    });
    return { lock: (stop) => l.lock(stop), unlock: () => l.unlock(), cleanup: () => l.destroy() };
  }
  out.verbose(`Setting up semaphore (limit ${s.limit}) at prefix: ${s.prefix}`);
  const sem = client.semaphoreOpts({
    prefix: s.prefix, limit: s.limit, sessionName: s.name, monitorRetries: s.monitorRetry, monitorRetryTime: DEFAULT_MONITOR_RETRY_TIME,
    ...(oneshot ? { semaphoreTryOnce: true, semaphoreWaitTime: s.timeout } : {}),
  });
  return { lock: (stop) => sem.acquire(stop), unlock: () => sem.release(), cleanup: () => sem.destroy() };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
}

/** Runs the child while the lock is held; answers 2 when the child failed, else 0. */
async function superviseChild(s: Settings, lost: AbortSignal, shutdown: Shutdown, io: CliIO, out: Out): Promise<number> {
  const child = startChild(s, io, out);
  const forward = (sig: NodeJS.Signals): void => {
    try {
      if (running(child.proc)) child.proc.kill(sig);
    } catch (err) {
      out.error(`Warning, could not forward signal: ${(err as Error).message}`);
    }
  };
  shutdown.forward.add(forward);
  try {
    const first = await Promise.race([
      child.exited.then((err) => ({ why: 'exit' as const, err })),
      aborted(shutdown.signal).then(() => ({ why: 'shutdown' as const, err: null })),
      aborted(lost).then(() => ({ why: 'lost' as const, err: null })),
    ]);
    if (first.why === 'exit') {
      out.verbose('Child terminated, releasing lock');
      return first.err === null ? 0 : 2;
    }
    out.verbose(first.why === 'shutdown' ? 'Shutdown triggered, killing child' : 'Lock lost, killing child');
    await killChild(child, out);
    return 0;
  } finally {
    shutdown.forward.delete(forward);
  }
}

/** Acquires, runs the child, releases and cleans up; answers the exit code. */
async function holdAndRun(client: ConsulClient, s: Settings, shutdown: Shutdown, io: CliIO, out: Out): Promise<number> {
  const lu = setup(client, s, out);
  out.verbose('Attempting lock acquisition');
  let lost: AbortSignal | null;
  try {
    lost = await lu.lock(shutdown.signal);
  } catch (err) {
    return fail(out, `Lock acquisition failed: ${(err as Error).message}`);
  }
  if (!lost) return fail(out, 'Shutdown triggered or timeout during lock acquisition');
  let childCode = 0;
  if (shutdown.signal.aborted) out.error('Shutdown triggered during lock acquisition');
  else childCode = await superviseChild(s, lost, shutdown, io, out);
  try {
    await lu.unlock();
  } catch (err) {
    return fail(out, `Lock release failed: ${(err as Error).message}`);
  }
  try {
    await lu.cleanup();
    out.verbose('Cleanup succeeded');
  } catch (err) {
    if (!(err instanceof LockError && err.code === 'in-use')) return fail(out, `Lock cleanup failed: ${(err as Error).message}`);
    out.verbose('Cleanup aborted, lock in use');
  }
  return s.propagate ? childCode : 0;
}

/** The lock command's body with an explicit shutdown source (tests drive it without process signals). */
export async function runLock(args: string[], io: CliIO, shutdown: Shutdown): Promise<number> {
  const flags = parseCommandFlags(lockCommand.flags, args, io);
  if (!flags) return 1;
  const base = ui(io);
  const out: Out = { ...base, verbose: (m) => (flags.values.verbose === true ? base.info(m) : undefined) };
  const s = settings(flags.values, flags.given, flags.args, out);
  if (typeof s === 'number') return s;
  let client: ConsulClient;
  try {
    client = clientFromFlags(flags, io.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return fail(out, `Error connecting to Consul agent: ${err.message}`);
  }
  try {
    await client.agent.self();
  } catch (err) {
    client.close();
    return fail(out, `Error querying Consul agent: ${(err as Error).message}`);
  }
  try {
    return await holdAndRun(client, s, shutdown, io, out);
  } finally {
    client.close();
  }
}

/** The `lock` command. */
export const lockCommand: Command = {
  name: 'lock',
  synopsis: 'Execute a command holding a lock',
  flags: [
    { name: 'child-exit-code', kind: 'bool', usage: "Exit 2 if the child process exited with an error if this is true, otherwise this doesn't propagate an error from the child. The default value is false." },
    { name: 'n', kind: 'int', default: 1, usage: 'Optional limit on the number of concurrent lock holders. The underlying implementation switches from a lock to a semaphore when the value is greater than 1. The default value is 1.' },
    { name: 'monitor-retry', kind: 'int', default: 3, usage: 'Number of times to retry if Consul returns a 500 error while monitoring the lock. This allows riding out brief periods of unavailability without causing leader elections, but increases the amount of time required to detect a lost lock in some cases. The default value is 3, with a 1s wait between retries. Set this value to 0 to disable retires.' },
    { name: 'name', kind: 'string', usage: 'Optional name to associate with the lock session. It not provided, one is generated based on the provided child command.' },
    { name: 'pass-stdin', kind: 'bool', usage: 'Pass stdin to the child process.' },
    { name: 'shell', kind: 'bool', default: true, usage: 'Use a shell to run the command (can set a custom shell via the SHELL environment variable).' },
    { name: 'timeout', kind: 'duration', default: 0, usage: 'Maximum amount of time to wait to acquire the lock, specified as a duration like "1s" or "3h". The default value is 0.' },
    { name: 'verbose', kind: 'bool', usage: 'Enable verbose (debugging) output.' },
    { name: 'try', kind: 'duration', default: 0, usage: 'DEPRECATED. Use -timeout instead.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul lock [options] prefix child...

  Acquires a lock or semaphore at a given path, and invokes a child process
  when successful. The child process can assume the lock is held while it
  executes. If the lock is lost or communication is disrupted the child
  process will be sent a SIGTERM signal and given time to gracefully exit.
  After the grace period expires the process will be hard terminated.

  For Consul agents on Windows, the child process is always hard terminated
  with a SIGKILL, since Windows has no POSIX compatible notion for SIGTERM.

  When -n=1, only a single lock holder or leader exists providing mutual
  exclusion. Setting a higher value switches to a semaphore allowing multiple
  holders to coordinate.

  The prefix provided must have write privileges.

  Run a job on one machine at a time:

      $ proconsul lock service/backup ./backup.sh

  Allow at most three workers at once, giving up after ten seconds:

      $ proconsul lock -n=3 -timeout=10s workers/pool "worker --once"
`,
  async run(args: string[], io: CliIO): Promise<number> {
    // Like Consul's shutdown channel: SIGINT/SIGTERM stop acquisition or kill the child, and
    // are forwarded to a running child; the process itself stays up to release the lock.
    const ctl = new AbortController();
    const shutdown: Shutdown = { signal: ctl.signal, forward: new Set() };
    const onSignal = (sig: NodeJS.Signals): void => {
      for (const f of shutdown.forward) f(sig);
      ctl.abort(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      return await runLock(args, io, shutdown);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
