// `proconsul partition read <name>` and `partition list` (Consul Enterprise's
// command/partition/read and list), pretty or JSON.

import { partitionList, partitionRead } from '../api/partitions.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import type { CliIO, Command } from './io.ts';
import { FORMAT_FLAG, listCommand, readOneCommand, showMetaFlag } from './namespace.ts';
import { formatPartition, formatPartitionList } from './partition.ts';

/** The `partition read` command. */
export const partitionReadCommand: Command = {
  name: 'partition read',
  synopsis: 'Read an admin partition',
  flags: [FORMAT_FLAG, showMetaFlag('meta', 'partition'), ...HTTP_FLAGS],
  help: `
Usage: proconsul partition read <name> [options]

  Read an admin partition's configuration.

  Example:

    $ proconsul partition read team1
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, (client, flags) => readOneCommand(io, flags, 'partition', (name) => partitionRead(client, name), formatPartition), (err) => err.message);
  },
};

/** The `partition list` command. */
export const partitionListCommand: Command = {
  name: 'partition list',
  synopsis: 'List all admin partitions',
  flags: [FORMAT_FLAG, showMetaFlag('show-meta', 'partition'), ...HTTP_FLAGS],
  help: `
Usage: proconsul partition list [options]

  List all admin partitions the token may read.

  Example:

    $ proconsul partition list
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, (client, flags) => listCommand(io, flags, 'partitions', !!flags.values['show-meta'], () => partitionList(client), formatPartitionList), (err) => err.message);
  },
};
