// `proconsul license get`: GET /v1/operator/license printed as Consul Enterprise's command does
// (validity, IDs, expiry, package, features).
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS, staleFlag } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { licenseGet } from '../api/operator-license.ts';
import { licenseGetText } from './license-format.ts';

/** The `license get` command. */
export const licenseGetCommand: Command = {
  name: 'license get',
  synopsis: 'Get the active license',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul license get [options]

  Gets the license in use by the datacenter: for Proconsul, the open license,
  valid and never expiring.

      $ proconsul license get
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      if (flags.args.length > 0) {
        out.error(`Too many arguments (expected 0, got ${flags.args.length})`);
        return 1;
      }
      const reply = await licenseGet(client, { stale: staleFlag(flags) });
      out.info(licenseGetText(reply));
      return reply.Valid ? 0 : 1;
    }, 'Error getting license');
  },
};
