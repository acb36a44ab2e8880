// `proconsul partition create` and `partition update`: write an admin partition from flags
// (Consul Enterprise's command/partition/create and update), printing it as read does.

import { partitionCreate, partitionUpdate, type Partition } from '../api/partitions.ts';
import type { ConsulClient } from '../api/client.ts';
import { runWithClient } from './client-command.ts';
import type { FlagDef } from './flags.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { FORMAT_FLAG, INVALID_FORMAT, formatOf, showMetaFlag } from './namespace.ts';
import { formatPartition } from './partition.ts';

const FLAGS: FlagDef[] = [
  { name: 'name', kind: 'string', default: '', usage: "The partition's name. This flag is required." },
  { name: 'description', kind: 'string', default: '', usage: 'A description of the partition.' },
  FORMAT_FLAG,
  showMetaFlag('show-meta', 'partition'),
  ...HTTP_FLAGS,
];

function command(verb: 'create' | 'update', call: (c: ConsulClient, p: Partition) => Promise<Partition>): Command {
  return {
    name: `partition ${verb}`,
    synopsis: verb === 'create' ? 'Create an admin partition' : 'Update an admin partition',
    flags: FLAGS,
    help: `
Usage: proconsul partition ${verb} -name <partition name> [options]

  ${verb === 'create' ? 'Create a new' : 'Update an existing'} admin partition from the CLI arguments.

  Example:

    $ proconsul partition ${verb} -name team1 -description "first partition"
`,
    async run(args: string[], io: CliIO): Promise<number> {
      return runWithClient(this.flags, args, io, async (client, flags) => {
        const out = ui(io);
        const name = String(flags.values.name);
        if (name === '') {
          out.error('Missing the required -name flag');
          return 1;
        }
        const format = formatOf(flags);
        if (!format) {
          out.error(INVALID_FORMAT);
          return 1;
        }
        const description = String(flags.values.description);
        const written = await call(client, { Name: name, ...(description ? { Description: description } : {}) }).catch((err: Error) => {
          throw new Error(`Failed to ${verb} partition ${name}: ${err.message}`);
        });
        out.info(formatPartition(written, format, !!flags.values['show-meta']));
        return 0;
      }, (err) => err.message);
    },
  };
}

/** The `partition create` command. */
export const partitionCreateCommand = command('create', (c, p) => partitionCreate(c, p));
/** The `partition update` command. */
export const partitionUpdateCommand = command('update', (c, p) => partitionUpdate(c, p));
