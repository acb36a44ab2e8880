// `proconsul namespace list`: every namespace the token may see (Consul Enterprise's
// command/namespace/list).

import { namespaceList } from '../api/namespaces.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { FORMAT_FLAG, INVALID_FORMAT, PARTITION_FLAG, formatNamespaceList, formatOf, partitionOption, showMetaFlag } from './namespace.ts';

/** The `namespace list` command. */
export const namespaceListCommand: Command = {
  name: 'namespace list',
  synopsis: 'List all Namespaces',
  flags: [FORMAT_FLAG, showMetaFlag('meta'), ...PARTITION_FLAG, ...HTTP_FLAGS],
  help: `
Usage: proconsul namespace list [options]

  List all namespaces. The results are filtered according to the token's
  ACL rules.

  Example:

    $ proconsul namespace list
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const format = formatOf(flags);
      if (!format) {
        ui(io).error(INVALID_FORMAT);
        return 1;
      }
      const list = await namespaceList(client, partitionOption(flags)).catch((err: Error) => {
        throw new Error(`Failed to list namespaces: ${err.message}`);
      });
      ui(io).info(formatNamespaceList(list, format, !!flags.values.meta));
      return 0;
    }, (err) => err.message);
  },
};
