// `proconsul config list -kind K [-filter EXPR]`: print the names of a kind's config entries,
// one a line, as `consul config list` does.

import { ConfigEntriesApi } from '../api/config-entries.ts';
import { withClient } from './client-command.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `config list` command. */
export const configListCommand: Command = {
  name: 'config list',
  synopsis: 'List centralized config entries of a given kind',
  flags: [
    { name: 'kind', kind: 'string', usage: 'The kind of configurations to list.' },
    { name: 'filter', kind: 'string', usage: 'Filter to use with the request.' },
    ...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul config list [options] -kind <config kind>

  Lists all of the config entries for a given kind. The -kind parameter
  is required.

  Example:

    $ proconsul config list -kind service-defaults

`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const kind = String(flags.values.kind ?? '');
    if (!kind) {
      out.error('Must specify the -kind parameter');
      return 1;
    }
    return withClient(flags, io, async (client) => {
      const filter = String(flags.values.filter ?? '');
      const { data } = await new ConfigEntriesApi(client).list(kind, { filter, stale: flags.values.stale === true });
      for (const e of data) out.info(e.Kind === 'mesh' ? 'mesh' : String(e.Name ?? ''));
      return 0;
    }, `Error listing config entries for kind ${JSON.stringify(kind)}`);
  },
};
