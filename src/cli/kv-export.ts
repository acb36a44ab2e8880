// `proconsul kv export`: a prefix as the JSON array `consul kv export` writes (tab-indented,
// base64 values), ready for `kv import`.

import { HTTP_FLAGS, openClient, staleFlag } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { goJsonIndent, toEntry } from './kv-entry.ts';

/** The `kv export` command. */
export const kvExportCommand: Command = {
  name: 'kv export',
  synopsis: 'Exports a tree from the KV store as JSON',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul kv export [KEY_OR_PREFIX]

  Retrieves key-value pairs for the given prefix from Consul's key-value store,
  and writes a JSON representation to stdout. This can be used with the command
  "proconsul kv import" to move entire trees between Consul clusters.

      $ proconsul kv export vault

  For a full list of options and examples, please see the Consul documentation.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (flags.args.length > 1) {
      out.error(`Too many arguments (expected 1, got ${flags.args.length})`);
      return 1;
    }
    let key = flags.args[0] ?? '';
    if (key.startsWith('/')) key = key.slice(1);
    const client = openClient(flags, io);
    if (!client) return 1;
    try {
      const { data } = await client.kv.list(key, { stale: staleFlag(flags) });
      out.info(goJsonIndent(data.map(toEntry)));
      return 0;
    } catch (err) {
      out.error(`Error querying Consul agent: ${(err as Error).message}`);
      return 1;
    } finally {
      client.close();
    }
  },
};
