// `proconsul join`: asks the local agent to join the gossip pool through one or more
// addresses; succeeds when at least one answered.

import { withClient } from './client-command.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { failUi } from './catalog-flags.ts';

/** The `join` command. */
export const joinCommand: Command = {
  name: 'join',
  synopsis: 'Tell Consul agent to join cluster',
  flags: [
    { name: 'wan', kind: 'bool', usage: 'Joins a server to another server in the WAN pool.' },
    ...HTTP_FLAGS, ...PARTITION_FLAGS,
  ],
  help: `
Usage: proconsul join [options] address ...

  Tells a running Consul agent (with "proconsul agent") to join the cluster
  by specifying at least one existing member.

      $ proconsul join 10.0.0.5
      $ proconsul join 10.0.0.5:8301 10.0.0.6
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (flags.args.length === 0) return out.fail('At least one address to join must be specified.');
    return withClient(flags, io, async (client) => {
      let joined = 0;
      for (const addr of flags.args) {
        try {
          await client.agent.join(addr, flags.values.wan === true);
          joined++;
        } catch (err) {
          out.error(`Error joining address '${addr}': ${(err as Error).message}`);
        }
      }
      if (joined === 0) return out.fail('Failed to join any nodes.');
      out.info(`Successfully joined cluster by contacting ${joined} nodes.`);
      return 0;
    });
  },
};
