// `proconsul namespace read <name>`: one namespace, pretty or JSON (Consul Enterprise's
// command/namespace/read).

import { namespaceRead } from '../api/namespaces.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import type { CliIO, Command } from './io.ts';
import { FORMAT_FLAG, PARTITION_FLAG, formatNamespace, partitionOption, readOneCommand, showMetaFlag } from './namespace.ts';

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
    return runWithClient(this.flags, args, io, (client, flags) => readOneCommand(io, flags, 'namespace', (name) => namespaceRead(client, name, partitionOption(flags)), formatNamespace), (err) => err.message);
  },
};
