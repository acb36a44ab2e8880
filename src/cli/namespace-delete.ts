// `proconsul namespace delete <name>`: marks a namespace for deletion; its data is removed in
// the background (Consul Enterprise's command/namespace/delete prints nothing on success).

import { namespaceDelete } from '../api/namespaces.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { PARTITION_FLAG, partitionOption } from './namespace.ts';

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
    return runWithClient(this.flags, args, io, async (client, flags) => {
      if (flags.args.length !== 1) {
        ui(io).error(flags.args.length === 0 ? 'Must specify the namespace name' : `Too many arguments (expected 1, got ${flags.args.length})`);
        return 1;
      }
      const name = flags.args[0];
      await namespaceDelete(client, name, partitionOption(flags)).catch((err: Error) => {
        throw new Error(`Failed to delete namespace ${name}: ${err.message}`);
      });
      return 0;
    }, (err) => err.message);
  },
};
