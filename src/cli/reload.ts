// `proconsul reload`: asks the local agent to reload its configuration files (PUT
// /v1/agent/reload), as SIGHUP does.

import { runWithClient } from './client-command.ts';
import { HTTP_CLIENT_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';

/** The `reload` command. */
export const reloadCommand: Command = {
  name: 'reload',
  synopsis: 'Triggers the agent to reload configuration files',
  flags: [...HTTP_CLIENT_FLAGS],
  help: `
Usage: proconsul reload

  Causes the agent to reload configurations. This can be used instead
  of sending the SIGHUP signal to the agent.
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client) => {
      await client.agent.reload();
      ui(io).info('Configuration reload triggered');
      return 0;
    }, 'Error reloading');
  },
};
