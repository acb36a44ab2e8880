// `proconsul partition delete <name>` and `partition write <file|->` (Consul Enterprise's
// command/partition/delete and write).

import { partitionDelete, partitionUpdate, type Partition } from '../api/partitions.ts';
import { runWithClient, withClient } from './client-command.ts';
import { loadDataSource } from './data-source.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { FORMAT_FLAG, INVALID_FORMAT, formatOf, showMetaFlag } from './namespace.ts';
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
    return runWithClient(this.flags, args, io, async (client, flags) => {
      if (flags.args.length !== 1) {
        ui(io).error(flags.args.length === 0 ? 'Must specify the partition name' : `Too many arguments (expected 1, got ${flags.args.length})`);
        return 1;
      }
      const name = flags.args[0];
      await partitionDelete(client, name).catch((err: Error) => {
        throw new Error(`Failed to delete partition ${name}: ${err.message}`);
      });
      return 0;
    }, (err) => err.message);
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
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (flags.args.length !== 1) {
      out.error(flags.args.length === 0 ? 'Must provide a partition definition' : `Too many arguments (expected 1, got ${flags.args.length})`);
      return 1;
    }
    const format = formatOf(flags);
    if (!format) {
      out.error(INVALID_FORMAT);
      return 1;
    }
    let p: Partition;
    try {
      p = partitionFromDefinition(await loadDataSource(flags.args[0], io.stdin));
    } catch (err) {
      out.error(`Failed to decode partition definition: ${(err as Error).message}`);
      return 1;
    }
    if (!p.Name) {
      out.error('Partition definition is missing its Name');
      return 1;
    }
    return withClient(flags, io, async (client) => {
      const written = await partitionUpdate(client, p);
      out.info(formatPartition(written, format, !!flags.values['show-meta']));
      return 0;
    }, `Failed to write partition ${p.Name}`);
  },
};
