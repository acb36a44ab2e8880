// `proconsul config delete (-kind K -name N | -filename F) [-cas -modify-index I]`: delete a
// config entry, with `consul config delete`'s argument rules and messages.

import { readFile } from 'node:fs/promises';
import { goFileError } from '../api/errors.ts';
import { ConfigEntriesApi } from '../api/config-entries.ts';
import { withClient } from './client-command.ts';
import type { ParsedFlags } from './flags.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { parseEntryText } from './config-write.ts';

/** Consul's validateArgs: the error text, or null when the flags make sense. */
function argsError(v: ParsedFlags['values']): string | null {
  const filename = String(v.filename ?? '');
  const kind = String(v.kind ?? '');
  const name = String(v.name ?? '');
  const count = [filename, kind, name].filter((s) => s !== '').length;
  if (count >= 3) return "filename can't be used with kind or name";
  if (count === 0) return 'Must specify the -kind or -filename parameter';
  if (filename && count === 2) return "filename can't be used with kind or name";
  if (!filename && !kind) return 'Must specify the -kind parameter';
  if (!filename && !name) return 'Must specify the -name parameter';
  const index = Number(v['modify-index'] ?? 0);
  if (v.cas && index === 0) return 'Must specify a -modify-index greater than 0 with -cas';
  if (index !== 0 && !v.cas) return 'Cannot specify -modify-index without -cas';
  return null;
}

/** The kind and name from the flags or the entry file. */
async function target(v: ParsedFlags['values']): Promise<{ kind: string; name: string }> {
  const filename = String(v.filename ?? '');
  if (!filename) return { kind: String(v.kind), name: String(v.name) };
  let data: string;
  try {
    data = await readFile(filename, 'utf8');
  } catch (err) {
    throw new Error(`Failed to load data: Failed to read file: ${goFileError(err as NodeJS.ErrnoException, filename)}`, { cause: err });
  }
  try {
    const { kind, name } = parseEntryText(data);
    return { kind, name };
  } catch (err) {
    throw new Error(`Failed to decode config entry input: ${(err as Error).message}`, { cause: err });
  }
}

/** The `config delete` command. */
export const configDeleteCommand: Command = {
  name: 'config delete',
  synopsis: 'Delete a centralized config entry',
  flags: [
    { name: 'filename', kind: 'string', usage: 'The filename of the config entry to delete' },
    { name: 'kind', kind: 'string', usage: 'The kind of configuration to delete.' },
    { name: 'name', kind: 'string', usage: 'The name of configuration to delete.' },
    { name: 'cas', kind: 'bool', usage: 'Perform a Check-And-Set operation. Specifying this value also requires the -modify-index flag to be set. The default value is false.' },
    { name: 'modify-index', kind: 'uint', default: 0, usage: 'Unsigned integer representing the ModifyIndex of the config entry. This is used in combination with the -cas flag.' },
    ...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul config delete [options] ([-kind <config kind> -name <config name>] | [-f FILENAME])

  Deletes the configuration entry specified by the kind and name.

  Example:

    $ proconsul config delete -kind service-defaults -name web
    $ proconsul config delete -filename service-defaults-web.hcl
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const v = flags.values;
    const bad = argsError(v);
    if (bad) return fail(out, bad);
    let t: { kind: string; name: string };
    try {
      t = await target(v);
    } catch (err) {
      return fail(out, (err as Error).message);
    }
    return withClient(flags, io, async (client) => {
      const api = new ConfigEntriesApi(client);
      let deleted = true;
      if (v.cas) deleted = (await api.deleteCAS(t.kind, t.name, Number(v['modify-index']))).data;
      else await api.delete(t.kind, t.name);
      if (!deleted) return fail(out, `Config entry not deleted: ${t.kind}/${t.name}`);
      out.info(`Config entry deleted: ${t.kind}/${t.name}`);
      return 0;
    }, `Error deleting config entry ${t.kind}/${t.name}`);
  },
};

function fail(out: ReturnType<typeof ui>, message: string): number {
  out.error(message);
  return 1;
}
