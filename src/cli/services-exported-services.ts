// `proconsul services exported-services`: the resolved exports as Consul's columns (Service,
// Consumer) or indented JSON, optionally only those with a given consumer peer or partition.
import { asIs, runWithClient } from './client-command.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { columnize } from './catalog-columns.ts';
import { exportedServices, type ResolvedExportedService } from '../api/exported-services.ts';

const FORMATS = ['pretty', 'json'];

/** The `services exported-services` command. */
export const servicesExportedServicesCommand: Command = {
  name: 'services exported-services',
  synopsis: 'Lists exported services',
  flags: [
    { name: 'format', kind: 'string', default: 'pretty', usage: 'Output format {pretty|json} (default: pretty)' },
    { name: 'consumerPeer', kind: 'string', default: '', usage: 'If provided, output is filtered to only services which have the consumer peer' },
    { name: 'consumerPartition', kind: 'string', default: '', usage: 'If provided, output is filtered to only services which have the consumer partition' },
    ...HTTP_FLAGS, ...PARTITION_FLAGS,
  ],
  help: `
Usage: proconsul services exported-services [options]

  Lists all the exported services and their consumers. Wildcards and sameness groups are expanded.

  Example:

    $ proconsul services exported-services
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      const format = String(flags.values.format);
      if (!FORMATS.includes(format)) {
        out.error(`Invalid format, valid formats are {${FORMATS.join('|')}}`);
        return 1;
      }
      const all = await exportedServices(client).catch((err: Error) => {
        throw new Error(`Error reading exported services: ${err.message}`);
      });
      const shown = filterConsumers(all, String(flags.values.consumerPeer), String(flags.values.consumerPartition));
      if (shown.length === 0) out.info('No exported services found');
      else out.info(format === 'json' ? JSON.stringify(shown, null, 4) : exportsTable(shown));
      return 0;
    }, asIs);
  },
};

/** Only the services with the given consumer peer or partition, each keeping just that consumer (all when neither is given). */
export function filterConsumers(services: ResolvedExportedService[], peer: string, partition: string): ResolvedExportedService[] {
  if (!peer && !partition) return services;
  const out: ResolvedExportedService[] = [];
  for (const s of services) {
    const Consumers: ResolvedExportedService['Consumers'] = {};
    if (partition && s.Consumers.Partitions?.includes(partition)) Consumers.Partitions = [partition];
    if (peer && s.Consumers.Peers?.includes(peer)) Consumers.Peers = [peer];
    if (Consumers.Peers || Consumers.Partitions) out.push({ Service: s.Service, Consumers });
  }
  return out;
}

/** One row per service and consumer, as `Peer: <name>` or `Partition: <name>`. */
export function exportsTable(services: ResolvedExportedService[]): string {
  const rows = [['Service', 'Consumer']];
  for (const s of services) {
    for (const p of s.Consumers.Peers ?? []) rows.push([s.Service, `Peer: ${p}`]);
    for (const p of s.Consumers.Partitions ?? []) rows.push([s.Service, `Partition: ${p}`]);
  }
  return columnize(rows);
}
