// The handlers of `proconsul watch`: Go's JSON rendering of a result (HTML-escaped as
// encoding/json does) and the child-process handler, run through $SHELL -c (or /bin/sh) or
// directly with -shell=false, given the JSON on stdin and CONSUL_INDEX in its environment.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { bigintReplacer } from '../api/json.ts';
import type { CliIO } from './io.ts';

/** encoding/json output: `indent` as MarshalIndent ('' = compact as Encoder), with <, >, &, U+2028/9 escaped; uint64 BigInts stay exact. */
export function goJson(value: unknown, indent: string): string {
  const s = JSON.stringify(value ?? null, bigintReplacer, indent) ?? 'null';
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** How to start the handler: a shell script line, or an argv run directly. */
export interface HandlerCommand {
  args: string[];
  shell: boolean;
}

/** Runs the handler once with the result; resolves to null on success or Consul's error text. */
export function runHandler(
  cmd: HandlerCommand, index: bigint, result: unknown, io: CliIO, onSpawn?: (child: ChildProcessWithoutNullStreams) => void,
): Promise<string | null> {
  const [file, argv] = cmd.shell
    ? [io.env.SHELL || '/bin/sh', ['-c', cmd.args.join(' ')]]
    : [cmd.args[0], cmd.args.slice(1)];
  const child = spawn(file, argv, { env: { ...io.env, CONSUL_INDEX: index.toString() }, stdio: ['pipe', 'pipe', 'pipe'] });
  onSpawn?.(child);
  child.stdout.on('data', (c: Buffer) => io.stdout(c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => io.stderr(c.toString('utf8')));
  // A handler that exits without reading its input must not fail the watch.
  child.stdin.on('error', () => undefined);
  child.stdin.end(`${goJson(result, '')}\n`);
  return new Promise((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code === 'ENOENT'
        ? `Error starting handler: exec: ${JSON.stringify(file)}: executable file not found in $PATH`
        : `Error starting handler: ${err.message}`);
    });
    child.once('close', (code, signal) => {
      if (code === 0) resolve(null);
      else if (signal) resolve(`Error executing handler: signal: ${goSignalName(signal)}`);
      else if (code !== null) resolve(`Error executing handler: exit status ${code}`);
    });
  });
}

/** Go's names for the signals a handler is commonly stopped by. */
function goSignalName(signal: NodeJS.Signals): string {
  const names: Partial<Record<NodeJS.Signals, string>> = { SIGKILL: 'killed', SIGTERM: 'terminated', SIGINT: 'interrupt', SIGHUP: 'hangup', SIGPIPE: 'broken pipe' };
  return names[signal] ?? signal;
}
