// `proconsul kv export`: a prefix as the JSON array `consul kv export` writes (tab-indented,
// base64 values), ready for `kv import`.

import { withClient } from './client-command.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS, staleFlag } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { goJsonIndent, toEntry } from './kv-entry.ts';
import { parseKeyCommand } from './kv-key.ts';

/** The `kv export` command. */
export const kvExportCommand: Command = {
  name: 'kv export',
  synopsis: 'Exports a tree from the KV store as JSON',
  flags: [...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS],
  help: `
Usage: proconsul kv export [KEY_OR_PREFIX]

  Retrieves key-value pairs for the given prefix from Consul's key-value store,
  and writes a JSON representation to stdout. This can be used with the command
  "proconsul kv import" to move entire trees between Consul clusters.

      $ proconsul kv export vault

  For a full list of options and examples, please see the Consul documentation.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const parsed = parseKeyCommand(this.flags, args, io);
    if (!parsed) return 1;
    const { flags, key } = parsed;
    return withClient(flags, io, async (client) => {
      const { data } = await client.kv.list(key, { stale: staleFlag(flags) });
      ui(io).info(goJsonIndent(data.map(toEntry)));
      return 0;
    }, 'Error querying Consul agent');
  },
};
