// `proconsul intention`: the parent of the intention subcommands; on its own it prints its help (exit 1).

import { RUN_RESULT_HELP, type Command } from './io.ts';

/** The `intention` command. */
export const intentionCommand: Command = {
  name: 'intention',
  synopsis: 'Interact with Connect service intentions',
  flags: [],
  help: `
Usage: proconsul intention <subcommand> [options] [args]

  This command has subcommands for interacting with intentions. Intentions
  are permissions describing which services are allowed to communicate via
  Connect. Here are some simple examples, and more detailed examples are
  available in the subcommands or the documentation.

  Create an intention to allow "web" to talk to "db":

      $ proconsul intention create web db

  Test whether a "web" is allowed to connect to "db":

      $ proconsul intention check web db

  Find all intentions for communicating to the "db" service:

      $ proconsul intention match db

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
