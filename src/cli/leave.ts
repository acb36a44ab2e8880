// `proconsul leave`: asks the local agent to leave the cluster gracefully and shut down
// (PUT /v1/agent/leave); the agent process exits once it has answered.

import { withClient } from './client-command.ts';
import { HTTP_CLIENT_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { usageWithFlags } from './usage.ts';

const HELP = `
Usage: proconsul leave [options]

  Causes the agent to gracefully leave the Consul cluster and shutdown.

      $ proconsul leave
      $ proconsul leave -http-addr=127.0.0.1:8500
`;

/** The `leave` command. */
export const leaveCommand: Command = {
  name: 'leave',
  synopsis: 'Gracefully leaves the Consul cluster and shuts down',
  flags: [...HTTP_CLIENT_FLAGS],
  help: HELP,
  async run(args: string[], io: CliIO): Promise<number> {
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (flags.args.length > 0) {
      // Go's %v of a []string: the arguments space-separated in brackets.
      ui(io).error(`Error found unexpected args: [${flags.args.join(' ')}]`);
      ui(io).info(usageWithFlags(HELP, this.flags));
      return 1;
    }
    return withClient(flags, io, async (client) => {
      await client.agent.leave();
      ui(io).info('Graceful leave complete');
      return 0;
    }, 'Error leaving');
  },
};
