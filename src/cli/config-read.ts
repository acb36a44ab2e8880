// `proconsul config read -kind K -name N`: print one config entry as indented JSON, as
// `consul config read` does.

import { ConfigEntriesApi } from '../api/config-entries.ts';
import { withClient } from './client-command.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `config read` command. */
export const configReadCommand: Command = {
  name: 'config read',
  synopsis: 'Read a centralized config entry',
  flags: [
    { name: 'kind', kind: 'string', usage: 'The kind of configuration to read.' },
    { name: 'name', kind: 'string', usage: 'The name of configuration to read.' },
    ...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul config read [options] -kind <config kind> -name <config name>

  Reads the config entry specified by the given kind and name and outputs its
  JSON representation.

  Example:

    $ proconsul config read -kind proxy-defaults -name global
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const kind = String(flags.values.kind ?? '');
    const name = String(flags.values.name ?? '');
    if (!kind) return fail(out, 'Must specify the -kind parameter');
    if (!name) return fail(out, 'Must specify the -name parameter');
    return withClient(flags, io, async (client) => {
      const { data } = await new ConfigEntriesApi(client).get(kind, name, { stale: flags.values.stale === true });
      out.info(JSON.stringify(data, null, 4));
      return 0;
    }, `Error reading config entry ${kind}/${name}`);
  },
};

function fail(out: ReturnType<typeof ui>, message: string): number {
  out.error(message);
  return 1;
}
