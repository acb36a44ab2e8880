// `proconsul license put` and `proconsul license reset`: Consul 1.10 removed setting and
// resetting the licence through the API; the commands remain and always fail, as Consul's do.
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

const REMOVED = 'Consul 1.10 removed license management through the API, and Proconsul needs no license';

/** The `license put` command. */
export const licensePutCommand: Command = {
  name: 'license put',
  synopsis: 'Puts a new license in the datacenter',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul license put [options] LICENSE

  Removed in Consul 1.10: always fails. Proconsul needs no license.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    if (!parseCommandFlags(this.flags, args, io)) return 1;
    ui(io).error(`Error putting license: ${REMOVED}`);
    return 1;
  },
};

/** The `license reset` command. */
export const licenseResetCommand: Command = {
  name: 'license reset',
  synopsis: 'Resets the license in the datacenter',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul license reset [options]

  Removed in Consul 1.10: always fails. Proconsul needs no license.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    if (!parseCommandFlags(this.flags, args, io)) return 1;
    ui(io).error(`Error resetting license: ${REMOVED}`);
    return 1;
  },
};
