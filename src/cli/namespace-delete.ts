// `proconsul namespace delete <name>`: marks a namespace for deletion; its data is removed in
// the background (Consul Enterprise's command/namespace/delete prints nothing on success).

import { namespaceDelete } from '../api/namespaces.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import type { CliIO, Command } from './io.ts';
import { PARTITION_FLAG, deleteOneCommand, partitionOption } from './namespace.ts';

/** The `namespace delete` command. */
export const namespaceDeleteCommand: Command = {
  name: 'namespace delete',
  synopsis: 'Delete a Namespace',
  flags: [...PARTITION_FLAG, ...HTTP_FLAGS],
  help: `
Usage: proconsul namespace delete <name> [options]

  Delete a namespace. Everything in it is deleted in the background; the
  namespace stays readable, with DeletedAt set, until then.

  Example:

    $ proconsul namespace delete team1
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, (client, flags) => deleteOneCommand(io, flags, 'namespace', (name) => namespaceDelete(client, name, partitionOption(flags))), (err) => err.message);
  },
};
