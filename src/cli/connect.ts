// `proconsul connect` and `proconsul connect ca`: the parents of the Connect subcommands; on their
// own they print their help (exit 1).
import { RUN_RESULT_HELP, type Command } from './io.ts';

/** The `connect` command. */
export const connectCommand: Command = {
  name: 'connect',
  synopsis: 'Interact with Consul Connect',
  flags: [],
  help: `
Usage: proconsul connect <subcommand> [options] [args]

  This command has subcommands for interacting with Consul Connect.

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  Get the CA configuration:

      $ proconsul connect ca get-config

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};

/** The `connect ca` command. */
export const connectCaCommand: Command = {
  name: 'connect ca',
  synopsis: 'Interact with the Consul Connect Certificate Authority (CA)',
  flags: [],
  help: `
Usage: proconsul connect ca <subcommand> [options] [args]

  This command has subcommands for interacting with Consul Connect's
  Certificate Authority (CA).

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  Get the configuration:

      $ proconsul connect ca get-config

  Update the configuration:

      $ proconsul connect ca set-config -config-file ca.json

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
