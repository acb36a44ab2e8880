// `proconsul license`: the parent of the license subcommands (Consul Enterprise's `consul
// license`); on its own it prints its help (exit 1). Proconsul needs no licence: `get` and
// `inspect` show the open licence it runs under, `put` and `reset` fail as in Consul 1.10+.
import { RUN_RESULT_HELP, type Command } from './io.ts';

/** The `license` command. */
export const licenseCommand: Command = {
  name: 'license',
  synopsis: 'Interact with Consul Enterprise Licensing',
  flags: [],
  help: `
Usage: proconsul license <subcommand> [options] [args]

  This command has subcommands for viewing the license. Proconsul needs no
  license: it reports the open license it runs under, valid and never
  expiring, listing the Consul Enterprise features it implements.

  Retrieve the current license:

      $ proconsul license get

  Inspect a license:

      $ proconsul license inspect

  Setting and resetting the license were removed in Consul 1.10; "put" and
  "reset" always fail.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
