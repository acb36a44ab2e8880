// `proconsul catalog services`: service names of a datacenter (or of one node), sorted, with
// -tags as Go's tabwriter lays them out.

import type { ConsulClient } from '../api/index.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { tabwriter } from './catalog-columns.ts';
import { failUi, mapFlag } from './catalog-flags.ts';
import { step, withClient } from './client-command.ts';

/** Renders a name→tags map as `consul catalog services` does (sorted; tags sorted and comma-joined with -tags). */
export function servicesList(services: Record<string, string[]>, tags: boolean): string {
  const names = Object.keys(services).sort();
  if (!tags) return names.join('\n');
  return tabwriter(names.map((n) => [n, [...(services[n] ?? [])].sort().join(',')]));
}

/** The `catalog services` command. */
export const catalogServicesCommand: Command = {
  name: 'catalog services',
  synopsis: 'Lists all registered services in a datacenter',
  flags: [
    { name: 'node', kind: 'string', usage: 'Node `id or name` for which to list services.' },
    { name: 'node-meta', kind: 'list', usage: 'Metadata to filter nodes with the given `key=value` pairs. If specified, only services running on nodes matching the given metadata will be returned. This flag may be specified multiple times to filter on multiple sources of metadata.' },
    { name: 'tags', kind: 'bool', usage: "Display each service's tags as a comma-separated list beside each service entry." },
    ...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul catalog services [options]

  Retrieves the list services registered in a given datacenter. By default, the
  datacenter of the local agent is queried.

  To retrieve the list of services:

      $ proconsul catalog services

  To include the services' tags in the output:

      $ proconsul catalog services -tags

  To list services which run on a particular node:

      $ proconsul catalog services -node=web

  To filter services on node metadata:

      $ proconsul catalog services -node-meta="foo=bar"

  For a full list of options and examples, please see the Consul documentation.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const nodeMeta = mapFlag(flags, this.flags, 'node-meta', io);
    if (!nodeMeta) return 1;
    if (flags.args.length > 0) return out.fail(`Too many arguments (expected 0, got ${flags.args.length})`);
    return withClient(flags, io, async (client) => {
      const services = await listServices(client, String(flags.values.node ?? ''), nodeMeta);
      if (Object.keys(services).length === 0) {
        out.error('No services match the given query - try expanding your search.');
        return 0;
      }
      out.info(servicesList(services, flags.values.tags === true));
      return 0;
    });
  },
};

/** Service names and their tags, of the catalog or of one node; a failed call fails the command. */
function listServices(client: ConsulClient, node: string, nodeMeta: Record<string, string>): Promise<Record<string, string[]>> {
  if (!node) return step('Error listing services', async () => (await client.catalog.services({ nodeMeta })).data ?? {});
  return step('Error listing services for node', async () => {
    const { data } = await client.catalog.node(node, { nodeMeta });
    const services: Record<string, string[]> = {};
    for (const s of Object.values(data?.Services ?? {})) services[s.Service] = [...(services[s.Service] ?? []), ...(s.Tags ?? [])];
    return services;
  });
}
