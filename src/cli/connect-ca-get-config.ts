// `proconsul connect ca get-config`: the CA configuration as Go's json.MarshalIndent of an
// api.CAConfig writes it (tab indent, map keys sorted, HTML-safe escapes).
import { runWithClient } from './client-command.ts';
import { caGetConfig, sortedKeys } from './connect-ca-api.ts';
import { HTTP_FLAGS, staleFlag } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { goJsonIndent } from './kv-entry.ts';

/** The `connect ca get-config` command. */
export const connectCaGetConfigCommand: Command = {
  name: 'connect ca get-config',
  synopsis: 'Display the current Connect Certificate Authority (CA) configuration',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul connect ca get-config [options]

  Displays the current Connect Certificate Authority (CA) configuration.

      $ proconsul connect ca get-config
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const c = await caGetConfig(client, staleFlag(flags));
      const out = {
        Provider: c.Provider ?? '', Config: sortedKeys(c.Config ?? null), State: sortedKeys(c.State ?? null),
        ForceWithoutCrossSigning: c.ForceWithoutCrossSigning ?? false, CreateIndex: c.CreateIndex ?? 0, ModifyIndex: c.ModifyIndex ?? 0,
      };
      ui(io).info(goJsonIndent(out));
      return 0;
    }, 'Error querying CA configuration');
  },
};
