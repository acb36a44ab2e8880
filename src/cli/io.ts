// The shape every CLI command has and the I/O it is given, so commands run in-process in tests
// with a capturing io and for real through bin/proconsul.js.

import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { FlagError, parseFlags, type FlagDef, type ParsedFlags } from './flags.ts';

// The usage texts load only to show one (issue #9).
const require = createRequire(import.meta.url);

/** Where a command reads and writes; `stdout`/`stderr` take whole chunks, newlines included. */
export interface CliIO {
  stdout(s: string): void;
  stderr(s: string): void;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** The directory relative file names resolve in (`tls ca create` writes there); process.cwd() when absent. */
  cwd?: string;
  /** Opens a URL in the user's browser (`login -type=oidc`); absent in tests and embeddings. */
  openBrowser?(url: string): void;
  /**
   * Sets a V8 flag in this process (v8.setFlagsFromString). Only the real CLI process has it:
   * `agent` then runs process-wide memory tuning (src/agent/idle-memory.ts); tests and
   * embeddings leave their process's V8 alone.
   */
  setV8Flag?(flag: string): void;
}

/** One CLI command (`name` is the full path, e.g. `kv get`). */
export interface Command {
  name: string;
  synopsis: string;
  /** Usage text as Consul writes it (`Usage: proconsul kv get [options] …` plus examples); flags are appended when shown. */
  help: string;
  flags: FlagDef[];
  run(args: string[], io: CliIO): Promise<number>;
}

/** Returned by `run` to ask the dispatcher to print the command's help and exit 1 (mitchellh/cli's RunResultHelp). */
export const RUN_RESULT_HELP = -18511;

/** Consul's cli.Ui: Info/Output go to stdout, Error to stderr, each with a trailing newline. */
export function ui(io: CliIO): { info(s: string): void; error(s: string): void } {
  return {
    info: (s) => io.stdout(`${s}\n`),
    error: (s) => io.stderr(`${s}\n`),
  };
}

/** Reads a stream to its end. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Parses a command's flags; on error prints Go flag's message and defaults to stderr and returns null (exit 1). */
export function parseCommandFlags(flags: FlagDef[], args: string[], io: CliIO): ParsedFlags | null {
  try {
    return parseFlags(flags, args);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    io.stderr(`${err.message}\nUsage:\n${(require('./usage.ts') as typeof import('./usage.ts')).goFlagDefaults(flags)}`);
    return null;
  }
}

/**
 * Parses flags and the one FILE argument of the snapshot commands (Consul's "Missing FILE
 * argument" / "Too many arguments" errors); null after printing the error (exit 1).
 */
export function parseFileCommand(flagDefs: FlagDef[], args: string[], io: CliIO): { flags: ParsedFlags; file: string } | null {
  const flags = parseCommandFlags(flagDefs, args, io);
  if (!flags) return null;
  if (flags.args.length !== 1) {
    ui(io).error(flags.args.length === 0 ? 'Missing FILE argument' : `Too many arguments (expected 1, got ${flags.args.length})`);
    return null;
  }
  return { flags, file: flags.args[0] };
}

/** An in-memory CliIO for running commands programmatically (tests, embedding); output is collected. */
export function memoryIO(options: { stdin?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliIO & { out: string; err: string } {
  const io = {
    cwd: options.cwd,
    out: '',
    err: '',
    stdout(s: string) { io.out += s; },
    stderr(s: string) { io.err += s; },
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    env: options.env ?? {},
  };
  return io;
}
