// `proconsul force-leave`: marks a failed member as left so the cluster stops trying to
// reconnect to it; -prune removes it from the member list at once.

import { withClient } from './client-command.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { failUi } from './catalog-flags.ts';

/** The `force-leave` command. */
export const forceLeaveCommand: Command = {
  name: 'force-leave',
  synopsis: 'Forces a member of the cluster to enter the "left" state',
  flags: [
    { name: 'prune', kind: 'bool', usage: 'Remove agent forcibly from list of members' },
    { name: 'wan', kind: 'bool', usage: 'Exclusively leave the agent from the WAN serf pool.' },
    ...HTTP_FLAGS, ...PARTITION_FLAGS,
  ],
  help: `
Usage: proconsul force-leave [options] name

  Forces a member of a Consul cluster to enter the "left" state. Note
  that if the member is still actually alive, it will eventually rejoin
  the cluster. The true purpose of this method is to force remove
  "failed" nodes.

      $ proconsul force-leave node-7
      $ proconsul force-leave -prune node-7
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (flags.args.length !== 1) return out.fail('A node name must be specified to force leave.');
    return withClient(flags, io, async (client) => {
      await client.agent.forceLeaveOpts(flags.args[0], { prune: flags.values.prune === true, wan: flags.values.wan === true });
      return 0;
    }, 'Error force leaving');
  },
};
