// What the catalog, services, maint and watch commands share: `key=value` map flags (Consul's
// FlagMapValue), `-filter` data sources (helpers.LoadDataSource) and opening the API client.

import { readFile } from 'node:fs/promises';
import { goFileError } from '../api/errors.ts';
import { goFlagDefaults } from './usage.ts';
import type { FlagDef, ParsedFlags } from './flags.ts';
import { readAll, ui, type CliIO } from './io.ts';

/** Folds a repeatable `key=value` list flag into a map; on a bad value prints Go flag's error and returns null. */
export function mapFlag(flags: ParsedFlags, defs: FlagDef[], name: string, io: CliIO): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const item of (flags.values[name] as string[] | undefined) ?? []) {
    const eq = item.indexOf('=');
    if (eq < 0) {
      io.stderr(`invalid value "${item}" for flag -${name}: Missing "=" value in argument: ${item}\nUsage:\n${goFlagDefaults(defs)}`);
      return null;
    }
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Resolves a `-filter` value: `@file` or `-` (stdin) are read, anything else is literal. */
export async function loadDataSource(data: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (data === '') return '';
  let source: string;
  if (data.startsWith('@')) source = data.slice(1);
  else if (data === '-') source = '-';
  else return data;
  if (source === '-') {
    try {
      return (await readAll(stdin)).toString('utf8');
    } catch (err) {
      throw new Error(`Failed to read stdin: ${(err as Error).message}`, { cause: err });
    }
  }
  try {
    return await readFile(source, 'utf8');
  } catch (err) {
    throw new Error(`Failed to read file: ${goFileError(err as NodeJS.ErrnoException, source)}`, { cause: err });
  }
}

/** The ui with a `fail` that prints to stderr and yields exit code 1. */
export function failUi(io: CliIO): ReturnType<typeof ui> & { fail(s: string): number } {
  const out = ui(io);
  return { ...out, fail: (s: string) => (out.error(s), 1) };
}
