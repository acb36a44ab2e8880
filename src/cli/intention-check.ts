// `proconsul intention check SRC DST`: whether a connection would be allowed, as `consul intention
// check` prints it (Allowed, exit 0; Denied, exit 1; errors exit 2).

import { IntentionsApi } from '../api/intentions.ts';
import { openClient } from './http-flags.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `intention check` command. */
export const intentionCheckCommand: Command = {
  name: 'intention check',
  synopsis: 'Check whether a connection between two services is allowed.',
  flags: [...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS],
  help: `
Usage: proconsul intention check [options] SRC DST

  Check whether a connection between SRC and DST would be allowed by
  Connect given the current Consul configuration.

      $ proconsul intention check web db

`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 2;
    if (flags.args.length !== 2) {
      out.error('Error: command requires exactly two arguments: src and dst');
      return 2;
    }
    const client = openClient(flags, io);
    if (!client) return 2;
    try {
      const allowed = await new IntentionsApi(client).check(flags.args[0], flags.args[1], { stale: flags.values.stale === true });
      out.info(allowed ? 'Allowed' : 'Denied');
      return allowed ? 0 : 1;
    } catch (err) {
      out.error(`Error checking the connection: ${(err as Error).message}`);
      return 2;
    } finally {
      client.close();
    }
  },
};
