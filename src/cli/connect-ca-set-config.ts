// `proconsul connect ca set-config -config-file=<json>`: replaces the CA configuration with the
// file's (an api.CAConfig in JSON), -force-without-cross-signing taken from the flag, as Consul does.
import { readFile } from 'node:fs/promises';
import { goFileError } from '../api/errors.ts';
import { parseJSONExact } from '../api/json.ts';
import { fail, step, withClient } from './client-command.ts';
import { caSetConfig, decodeCAConfig } from './connect-ca-api.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `connect ca set-config` command. */
export const connectCaSetConfigCommand: Command = {
  name: 'connect ca set-config',
  synopsis: 'Modify the current Connect CA configuration',
  flags: [
    { name: 'config-file', kind: 'string', usage: 'The path to the config file to use.' },
    {
      name: 'force-without-cross-signing', kind: 'bool',
      usage: 'Indicates that the CA reconfiguration should go ahead even if the current CA is unable to cross sign certificates. '
        + 'This risks temporary connection failures during the rollout as new leafs will be rejected by proxies that have not yet '
        + 'observed the new root cert but is the only option if a CA that doesn\'t support cross signing needs to be reconfigured or mirated away from.',
    },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul connect ca set-config [options]

  Modifies the current Connect Certificate Authority (CA) configuration.

      $ proconsul connect ca set-config -config-file ca.json
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    return withClient(flags, io, async (client) => {
      const file = String(flags.values['config-file'] ?? '');
      if (!file) return fail(io, 'The -config-file flag is required');
      const text = await step('Error reading config file', async () => {
        try {
          return await readFile(file, 'utf8');
        } catch (err) {
          throw new Error(goFileError(err as NodeJS.ErrnoException, file), { cause: err });
        }
      });
      const cfg = await step('Error parsing config file', () => decodeCAConfig(parseJSONExact(text)));
      cfg.ForceWithoutCrossSigning = flags.values['force-without-cross-signing'] === true;
      await step('Error setting CA configuration', () => caSetConfig(client, cfg));
      ui(io).info('Configuration updated!');
      return 0;
    });
  },
};
