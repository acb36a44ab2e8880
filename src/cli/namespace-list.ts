// `proconsul namespace list`: every namespace the token may see (Consul Enterprise's
// command/namespace/list).

import { namespaceList } from '../api/namespaces.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import type { CliIO, Command } from './io.ts';
import { FORMAT_FLAG, PARTITION_FLAG, formatNamespaceList, listCommand, partitionOption, showMetaFlag } from './namespace.ts';

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
    return runWithClient(this.flags, args, io, (client, flags) => listCommand(io, flags, 'namespaces', !!flags.values.meta, () => namespaceList(client, partitionOption(flags)), formatNamespaceList), (err) => err.message);
  },
};
