// `proconsul config`: the parent of the config entry subcommands; on its own it prints its help (exit 1).

import { RUN_RESULT_HELP, type Command } from './io.ts';

/** The `config` command. */
export const configCommand: Command = {
  name: 'config',
  synopsis: 'Interact with Consul\'s Centralized Configurations',
  flags: [],
  help: `
Usage: proconsul config <subcommand> [options] [args]

  This command has subcommands for interacting with Consul's centralized
  configuration.

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  Create or update a configuration entry:

      $ proconsul config write web.service.hcl

  Read a configuration entry:

      $ proconsul config read -kind service-defaults -name web

  List all configuration entries of a kind:

      $ proconsul config list -kind service-defaults

  Delete a configuration entry:

      $ proconsul config delete -kind service-defaults -name web

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
