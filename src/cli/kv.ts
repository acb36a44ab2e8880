// `proconsul kv`: the parent of the KV subcommands; on its own it prints its help (exit 1).

import { RUN_RESULT_HELP, type Command } from './io.ts';

/** The `kv` command. */
export const kvCommand: Command = {
  name: 'kv',
  synopsis: 'Interact with the key-value store',
  flags: [],
  help: `
Usage: proconsul kv <subcommand> [options] [args]

  This command has subcommands for interacting with Consul's key-value
  store. Here are some simple examples, and more detailed examples are
  available in the subcommands or the documentation.

  Create or update the key named "redis/config/connections" with the value "5":

      $ proconsul kv put redis/config/connections 5

  Read this value back:

      $ proconsul kv get redis/config/connections

  Or get detailed key information:

      $ proconsul kv get -detailed redis/config/connections

  Finally, delete the key:

      $ proconsul kv delete redis/config/connections

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
