// `proconsul peering list`: every peering sorted by name, as Consul's table or JSON
// (command/peering/list).

import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { columnize } from './catalog-columns.ts';
import { INVALID_FORMAT, PEERING_FORMATS, PEERING_FORMAT_FLAG } from './peering.ts';
import { peeringList, type Peering } from '../api/peering.ts';

/** The `peering list` command. */
export const peeringListCommand: Command = {
  name: 'peering list',
  synopsis: 'List peering connections',
  flags: [PEERING_FORMAT_FLAG, ...HTTP_FLAGS, ...PARTITION_FLAGS],
  help: `
Usage: proconsul peering list [options]

  List all peering connections.  The results will be filtered according
  to ACL policy configuration.

  Example:

    $ proconsul peering list
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      const format = String(flags.values.format);
      if (!PEERING_FORMATS.includes(format)) {
        out.error(INVALID_FORMAT);
        return 1;
      }
      const list = await peeringList(client).catch((err: Error) => {
        throw new Error(`Error listing peerings: ${err.message}`);
      });
      list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
      if (format === 'json') {
        out.info(JSON.stringify(list));
        return 0;
      }
      if (list.length === 0) {
        out.info('There are no peering connections.');
        return 0;
      }
      out.info(peeringTable(list));
      return 0;
    }, (err) => err.message);
  },
};

/** Consul's list table: name, state, counts of imported and exported services, meta. */
export function peeringTable(list: Peering[]): string {
  const rows = [['Name', 'State', 'Imported Svcs', 'Exported Svcs', 'Meta']];
  for (const p of list) {
    const meta = Object.keys(p.Meta ?? {}).sort().map((k) => `${k}=${p.Meta![k]}`).join(',');
    rows.push([p.Name, p.State, String(p.StreamStatus.ImportedServices?.length ?? 0), String(p.StreamStatus.ExportedServices?.length ?? 0), meta]);
  }
  return columnize(rows);
}
