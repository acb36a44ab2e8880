// `proconsul intention match [-source] NAME`: the intentions enforced for a source or destination,
// in evaluation order, one `src => dst (action)` a line, as `consul intention match` prints them.

import { IntentionsApi, intentionString } from '../api/intentions.ts';
import { withClient } from './client-command.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `intention match` command. */
export const intentionMatchCommand: Command = {
  name: 'intention match',
  synopsis: 'Show intentions that match a source or destination.',
  flags: [
    { name: 'source', kind: 'bool', usage: 'Match intentions with the given source.' },
    { name: 'destination', kind: 'bool', usage: 'Match intentions with the given destination.' },
    ...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul intention match [options] SRC|DST

  Show the list of intentions that would be enforced for a given source
  or destination. The intentions are listed in the order they would be
  evaluated.

      $ proconsul intention match db
      $ proconsul intention match -source web

`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 2;
    if (flags.args.length !== 1) {
      out.error('Error: command requires exactly one argument: src or dst');
      return 1;
    }
    if (flags.values.source === true && flags.values.destination === true) {
      out.error('Error: only one of -source or -destination may be specified');
      return 1;
    }
    const name = flags.args[0];
    const by = flags.values.source === true ? 'source' : 'destination';
    return withClient(flags, io, async (client) => {
      const { data } = await new IntentionsApi(client).match(by, [name], { stale: flags.values.stale === true });
      for (const ixn of data[name] ?? []) out.info(intentionString(ixn));
      return 0;
    }, 'Error matching the connection');
  },
};
