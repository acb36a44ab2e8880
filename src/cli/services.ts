// `proconsul services`: the parent of the local-agent service subcommands; on its own it prints its help (exit 1).

import { RUN_RESULT_HELP, type Command } from './io.ts';

/** The `services` command. */
export const servicesCommand: Command = {
  name: 'services',
  synopsis: 'Interact with services',
  flags: [],
  help: `
Usage: proconsul services <subcommand> [options] [args]

  This command has subcommands for interacting with services. The subcommands
  default to working with services registered with the local agent. Please see
  the "proconsul catalog" command for interacting with the entire catalog.

      $ proconsul services register web.json
      $ proconsul services deregister -id=web

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
