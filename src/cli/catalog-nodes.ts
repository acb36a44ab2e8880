// `proconsul catalog nodes`: the nodes of a datacenter (or those providing a service) as
// Consul's columnized table: Node, ID (up to the first dash), Address, DC; -detailed adds
// the full ID, TaggedAddresses and Meta.

import type { ConsulClient, ListOptions, Node } from '../api/index.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { columnize, mapToKV } from './catalog-columns.ts';
import { failUi, loadDataSource, mapFlag } from './catalog-flags.ts';
import { step, withClient } from './client-command.ts';

/** Renders nodes as `consul catalog nodes` does. */
export function nodesTable(nodes: Node[], detailed: boolean): string {
  const header = detailed ? ['Node', 'ID', 'Address', 'DC', 'TaggedAddresses', 'Meta'] : ['Node', 'ID', 'Address', 'DC'];
  const rows = nodes.map((n) => {
    if (detailed) return [n.Node, n.ID, n.Address, n.Datacenter, mapToKV(n.TaggedAddresses, ', '), mapToKV(n.Meta, ', ')];
    // Only the first group of the UUID, as Consul shortens it.
    const dash = n.ID.indexOf('-');
    return [n.Node, dash > 0 ? n.ID.slice(0, dash) : n.ID, n.Address, n.Datacenter];
  });
  return columnize([header, ...rows]);
}

/** The `catalog nodes` command. */
export const catalogNodesCommand: Command = {
  name: 'catalog nodes',
  synopsis: 'Lists all nodes in the given datacenter',
  flags: [
    { name: 'filter', kind: 'string', usage: 'Filter to use with the request' },
    { name: 'detailed', kind: 'bool', usage: 'Output detailed information about the nodes including their addresses and metadata.' },
    { name: 'near', kind: 'string', usage: 'Node name to sort the node list in ascending order based on estimated round-trip time from that node. Passing "_agent" will use this agent\'s node for sorting.' },
    { name: 'node-meta', kind: 'list', usage: 'Metadata to filter nodes with the given `key=value` pairs. This flag may be specified multiple times to filter on multiple sources of metadata.' },
    { name: 'service', kind: 'string', usage: 'Service `id or name` to filter nodes. Only nodes which are providing the given service will be returned.' },
    ...HTTP_FLAGS, ...PARTITION_FLAGS,
  ],
  help: `
Usage: proconsul catalog nodes [options]

  Retrieves the list nodes registered in a given datacenter. By default, the
  datacenter of the local agent is queried.

  To retrieve the list of nodes:

      $ proconsul catalog nodes

  To print detailed information including full node IDs, tagged addresses, and
  metadata information:

      $ proconsul catalog nodes -detailed

  To list nodes which are running a particular service:

      $ proconsul catalog nodes -service=web

  To filter by node metadata:

      $ proconsul catalog nodes -node-meta="foo=bar"

  To sort nodes by estimated round-trip time from node-web:

      $ proconsul catalog nodes -near=node-web

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
      const filter = await step('Could not process filter argument', () => loadDataSource(String(flags.values.filter ?? ''), io.stdin));
      const opts: ListOptions = { near: String(flags.values.near ?? ''), nodeMeta, filter };
      const nodes = await listNodes(client, String(flags.values.service ?? ''), opts);
      // Consul treats an empty result as an error message with a zero exit.
      if (nodes.length === 0) {
        out.error('No nodes match the given query - try expanding your search.');
        return 0;
      }
      out.info(nodesTable(nodes, flags.values.detailed === true));
      return 0;
    });
  },
};

/** The nodes of the catalog, or of one service's instances; a failed call fails the command. */
function listNodes(client: ConsulClient, service: string, opts: ListOptions): Promise<Node[]> {
  if (!service) return step('Error listing nodes', async () => (await client.catalog.nodes(opts)).data ?? []);
  return step('Error listing nodes for service', async () => (await client.catalog.service(service, opts)).data.map((s) => ({
    ID: s.ID, Node: s.Node, Address: s.Address, Datacenter: s.Datacenter, TaggedAddresses: s.TaggedAddresses,
    Meta: s.NodeMeta, CreateIndex: s.CreateIndex, ModifyIndex: s.ModifyIndex,
  })));
}
