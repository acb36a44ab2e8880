// `proconsul partition delete <name>` and `partition write <file|->` (Consul Enterprise's
// command/partition/delete and write).

import { partitionDelete, partitionUpdate } from '../api/partitions.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import type { CliIO, Command } from './io.ts';
import { FORMAT_FLAG, deleteOneCommand, showMetaFlag, writeCommand } from './namespace.ts';
import { formatPartition, partitionFromDefinition } from './partition.ts';

/** The `partition delete` command. */
export const partitionDeleteCommand: Command = {
  name: 'partition delete',
  synopsis: 'Delete an admin partition',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul partition delete <name> [options]

  Delete an admin partition. Everything in it is deleted in the background;
  the partition stays readable, with DeletedAt set, until then.

  Example:

    $ proconsul partition delete team1
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, (client, flags) => deleteOneCommand(io, flags, 'partition', (name) => partitionDelete(client, name)), (err) => err.message);
  },
};

/** The `partition write` command. */
export const partitionWriteCommand: Command = {
  name: 'partition write',
  synopsis: 'Create or update an admin partition from its full definition',
  flags: [FORMAT_FLAG, showMetaFlag('show-meta', 'partition'), ...HTTP_FLAGS],
  help: `
Usage: proconsul partition write <partition definition>

  The <partition definition> must either be a file path or '-' to indicate
  that the definition should be read from stdin. The definition can be in
  either JSON or HCL format.

  Example:

    $ proconsul partition write part1.hcl
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return writeCommand(io, this.flags, args, 'partition', 'show-meta', partitionFromDefinition, (client, p) => partitionUpdate(client, p), formatPartition);
  },
};
