// `proconsul namespace read <name>`: one namespace, pretty or JSON (Consul Enterprise's
// command/namespace/read).

import { namespaceRead } from '../api/namespaces.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { FORMAT_FLAG, INVALID_FORMAT, PARTITION_FLAG, formatNamespace, formatOf, partitionOption, showMetaFlag } from './namespace.ts';

/** The `namespace read` command. */
export const namespaceReadCommand: Command = {
  name: 'namespace read',
  synopsis: 'Read a Namespace',
  flags: [FORMAT_FLAG, showMetaFlag('meta'), ...PARTITION_FLAG, ...HTTP_FLAGS],
  help: `
Usage: proconsul namespace read <name> [options]

  Read a namespace's configuration.

  Example:

    $ proconsul namespace read team1
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      if (flags.args.length !== 1) {
        out.error(flags.args.length === 0 ? 'Must specify the namespace name' : `Too many arguments (expected 1, got ${flags.args.length})`);
        return 1;
      }
      const format = formatOf(flags);
      if (!format) {
        out.error(INVALID_FORMAT);
        return 1;
      }
      const name = flags.args[0];
      const ns = await namespaceRead(client, name, partitionOption(flags)).catch((err: Error) => {
        throw new Error(`Failed to read namespace ${name}: ${err.message}`);
      });
      if (!ns) {
        out.error(`Namespace not found: ${name}`);
        return 1;
      }
      out.info(formatNamespace(ns, format, !!flags.values.meta));
      return 0;
    }, (err) => err.message);
  },
};
