// `proconsul config write <file|->`: create or update a config entry from an HCL or JSON file (or
// stdin), plain or check-and-set, with `consul config write`'s messages.

import { ConfigEntriesApi, type ConfigEntryBody } from '../api/config-entries.ts';
import { parseText } from '../agent/config/index.ts';
import { withClient } from './client-command.ts';
import { loadDataSource } from './data-source.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** Parses an entry file (JSON when it looks like JSON, else HCL) and finds its kind and name. */
export function parseEntryText(data: string): { entry: ConfigEntryBody; kind: string; name: string } {
  const raw = parseText(data, data.trimStart().startsWith('{') ? 'json' : 'hcl');
  const field = (f: string): unknown => Object.entries(raw).find(([k]) => k.toLowerCase() === f)?.[1];
  const kind = field('kind');
  if (kind === undefined) throw new Error('Payload does not contain a kind/Kind key at the top level');
  if (typeof kind !== 'string') throw new Error('Kind value in payload is not a string');
  const name = kind === 'mesh' ? 'mesh' : String(field('name') ?? '');
  return { entry: raw as ConfigEntryBody, kind, name };
}

/** The `config write` command. */
export const configWriteCommand: Command = {
  name: 'config write',
  synopsis: 'Create or update a centralized config entry',
  flags: [
    { name: 'cas', kind: 'bool', usage: 'Perform a Check-And-Set operation. Specifying this value also requires the -modify-index flag to be set. The default value is false.' },
    { name: 'modify-index', kind: 'uint', default: 0, usage: 'Unsigned integer representing the ModifyIndex of the config entry. This is used in combination with the -cas flag.' },
    ...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul config write [options] <configuration>

  Request a config entry to be created or updated. The configuration
  argument is either a file path or '-' to indicate that the config
  should be read from stdin. The data should be either in HCL or
  JSON form.

  Example (from file):

    $ proconsul config write web.service.hcl

  Example (from stdin):

    $ proconsul config write -
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (flags.args.length !== 1) {
      out.error('Must provide exactly one positional argument to specify the config entry to write');
      return 1;
    }
    let data: string;
    try {
      data = await loadDataSource(flags.args[0], io.stdin);
    } catch (err) {
      out.error(`Failed to load data: ${(err as Error).message}`);
      return 1;
    }
    let parsed: ReturnType<typeof parseEntryText>;
    try {
      parsed = parseEntryText(data);
    } catch (err) {
      out.error(`Failed to decode config entry input: ${(err as Error).message}`);
      return 1;
    }
    const { entry, kind, name } = parsed;
    return withClient(flags, io, async (client) => {
      const api = new ConfigEntriesApi(client);
      const { data: written } = flags.values.cas ? await api.cas(entry, Number(flags.values['modify-index'])) : await api.set(entry);
      if (!written) {
        out.error(`Config entry not updated: ${kind}/${name}`);
        return 1;
      }
      out.info(`Config entry written: ${kind}/${name}`);
      return 0;
    }, `Error writing config entry ${kind}/${name}`);
  },
};
