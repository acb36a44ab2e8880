// `proconsul peering exported-services`: the services exported to one peer, from its stream
// status (command/peering/exportedservices): one name per line, or JSON service IDs.

import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { nameAndFormat, readNamedPeering, PEERING_FORMAT_FLAG } from './peering.ts';

/** The `peering exported-services` command. */
export const peeringExportedServicesCommand: Command = {
  name: 'peering exported-services',
  synopsis: 'Lists exported services to a peer',
  flags: [
    { name: 'name', kind: 'string', default: '', usage: '(Required) The local name assigned to the peer cluster.' },
    PEERING_FORMAT_FLAG,
    ...HTTP_FLAGS, ...PARTITION_FLAGS,
  ],
  help: `
Usage: proconsul peering exported-services [options] -name <peer name>

  Lists services exported to the peer with the provided name. If the peer is not found,
  the command exits with a non-zero code. The result is filtered according
  to ACL policy configuration.

  Example:

    $ proconsul peering exported-services -name west-dc
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      const checked = nameAndFormat(flags, out);
      if (!checked) return 1;
      const { name, format } = checked;
      const p = await readNamedPeering(client, name, out);
      if (!p) return 1;
      const services = p.StreamStatus.ExportedServices ?? [];
      // Consul prints its ServiceIDs: CE's carry only the ID.
      out.info(format === 'json' ? JSON.stringify(services.map((ID) => ({ ID }))) : services.join('\n'));
      return 0;
    }, (err) => err.message);
  },
};
