// `proconsul catalog datacenters`: every known datacenter, one a line, nearest first.

import { withClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `catalog datacenters` command. */
export const catalogDatacentersCommand: Command = {
  name: 'catalog datacenters',
  synopsis: 'Lists all known datacenters',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul catalog datacenters [options]

  Retrieves the list of all known datacenters. This datacenters are sorted in
  ascending order based on the estimated median round trip time from the servers
  in this datacenter to the servers in the other datacenters.

  To retrieve the list of datacenters:

      $ proconsul catalog datacenters

  For a full list of options and examples, please see the Consul documentation.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (flags.args.length > 0) {
      out.error(`Too many arguments (expected 0, got ${flags.args.length})`);
      return 1;
    }
    return withClient(flags, io, async (client) => {
      try {
        for (const dc of await client.catalog.datacenters()) out.info(dc);
      } catch (err) {
        // Consul reports the error and still exits 0 here.
        out.error(`Error listing datacenters: ${(err as Error).message}`);
      }
      return 0;
    });
  },
};
