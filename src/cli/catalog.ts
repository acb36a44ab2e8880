// `proconsul catalog`: the parent of the catalog listing subcommands; on its own it prints its help (exit 1).

import { RUN_RESULT_HELP, type Command } from './io.ts';

/** The `catalog` command. */
export const catalogCommand: Command = {
  name: 'catalog',
  synopsis: 'Interact with the catalog',
  flags: [],
  help: `
Usage: proconsul catalog <subcommand> [options] [args]

  This command has subcommands for interacting with Consul's catalog. The
  catalog should not be confused with the agent, although the APIs and
  responses may be similar.

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  List all datacenters:

      $ proconsul catalog datacenters

  List all nodes:

      $ proconsul catalog nodes

  List all services:

      $ proconsul catalog services

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
