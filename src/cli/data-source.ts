// What the CLI's definition-reading commands (config write, namespace write, partition write)
// share: a definition read from a file path (optionally `@`-prefixed) or `-` (stdin), as Consul's
// helpers.LoadDataSourceNoRaw reads it.

import { readFile } from 'node:fs/promises';
import { goFileError } from '../api/errors.ts';
import { readAll } from './io.ts';

/** Reads a file path or `-` (stdin), as Consul's LoadDataSourceNoRaw; a read failure is Consul's `Failed to read file: …`. */
export async function loadDataSource(arg: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (arg === '-') return (await readAll(stdin)).toString('utf8');
  const path = arg.startsWith('@') ? arg.slice(1) : arg;
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`Failed to read file: ${goFileError(err as NodeJS.ErrnoException, path)}`, { cause: err });
  }
}
