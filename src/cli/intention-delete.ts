// `proconsul intention delete SRC DST | ID`: delete an intention by its source and destination
// (or, deprecated, by ID), with `consul intention delete`'s messages.

import { IntentionsApi } from '../api/intentions.ts';
import { withClient } from './client-command.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `intention delete` command. */
export const intentionDeleteCommand: Command = {
  name: 'intention delete',
  synopsis: 'Delete an intention.',
  flags: [...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS],
  help: `
Usage: proconsul intention delete [options] SRC DST
Usage: proconsul intention delete [options] ID

  Delete an intention. This cannot be reversed. The intention can be looked
  up via an exact source/destination match or via the unique intention ID.

      $ proconsul intention delete web db

`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const rest = flags.args;
    if (rest.length !== 1 && rest.length !== 2) {
      out.error('command requires exactly 1 or 2 arguments');
      return 1;
    }
    return withClient(flags, io, async (client) => {
      const api = new IntentionsApi(client);
      if (rest.length === 1) await api.delete(rest[0]);
      else await api.deleteExact(rest[0], rest[1]);
      out.info('Intention deleted.');
      return 0;
    }, 'Error deleting the intention');
  },
};
