// `proconsul peering delete`: marks a peering for deletion (command/peering/delete).

import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { peeringDelete } from '../api/peering.ts';

/** The `peering delete` command. */
export const peeringDeleteCommand: Command = {
  name: 'peering delete',
  synopsis: 'Delete a peering connection',
  flags: [
    { name: 'name', kind: 'string', default: '', usage: '(Required) The local name assigned to the peer cluster.' },
    ...HTTP_FLAGS, ...PARTITION_FLAGS,
  ],
  help: `
Usage: proconsul peering delete [options] -name <peer name>

  Delete a peering connection. The data imported from the peer is deleted
  in the background, and the peering connection is removed once it is gone.
  Operators can still read the peering connection while the data is being
  removed. A 'DeletedAt' field is populated with the time the peering was
  marked for deletion.

  Example:

    $ proconsul peering delete -name west-dc
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const name = String(flags.values.name);
      if (name === '') {
        ui(io).error('Missing the required -name flag');
        return 1;
      }
      await peeringDelete(client, name).catch((err: Error) => {
        throw new Error(`Error deleting peering for ${name}: ${err.message}`);
      });
      ui(io).info(`Successfully submitted peering connection, ${name}, for deletion`);
      return 0;
    }, (err) => err.message);
  },
};
