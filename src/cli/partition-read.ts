// `proconsul partition read <name>` and `partition list` (Consul Enterprise's
// command/partition/read and list), pretty or JSON.

import { partitionList, partitionRead } from '../api/partitions.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { FORMAT_FLAG, INVALID_FORMAT, formatOf, showMetaFlag } from './namespace.ts';
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
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      if (flags.args.length !== 1) {
        out.error(flags.args.length === 0 ? 'Must specify the partition name' : `Too many arguments (expected 1, got ${flags.args.length})`);
        return 1;
      }
      const format = formatOf(flags);
      if (!format) {
        out.error(INVALID_FORMAT);
        return 1;
      }
      const name = flags.args[0];
      const p = await partitionRead(client, name).catch((err: Error) => {
        throw new Error(`Failed to read partition ${name}: ${err.message}`);
      });
      if (!p) {
        out.error(`Partition not found: ${name}`);
        return 1;
      }
      out.info(formatPartition(p, format, !!flags.values.meta));
      return 0;
    }, (err) => err.message);
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
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const format = formatOf(flags);
      if (!format) {
        ui(io).error(INVALID_FORMAT);
        return 1;
      }
      const list = await partitionList(client).catch((err: Error) => {
        throw new Error(`Failed to list partitions: ${err.message}`);
      });
      ui(io).info(formatPartitionList(list, format, !!flags.values['show-meta']));
      return 0;
    }, (err) => err.message);
  },
};
