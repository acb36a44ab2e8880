// `proconsul intention list`: every intention as a table (ID, Source, Action, Destination,
// Precedence), as `consul intention list` prints it; none is exit 2.

import { IntentionsApi } from '../api/intentions.ts';
import { withClient } from './client-command.ts';
import { columnize } from './catalog-columns.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `intention list` command. */
export const intentionListCommand: Command = {
  name: 'intention list',
  synopsis: 'List intentions.',
  flags: [...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS],
  help: `
Usage: proconsul intention list

  List all intentions.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    return withClient(flags, io, async (client) => {
      const { data } = await new IntentionsApi(client).list({ stale: flags.values.stale === true });
      if (data.length === 0) {
        out.error('There are no intentions.');
        return 2;
      }
      const rows = [['ID', 'Source', 'Action', 'Destination', 'Precedence']];
      for (const i of data) rows.push([i.ID ?? '', i.SourceName, i.Action ?? '', i.DestinationName, String(i.Precedence ?? 0)]);
      out.info(columnize(rows));
      return 0;
    }, 'Failed to retrieve the intentions list');
  },
};
