// `proconsul rtt`: estimates the round trip time between two nodes from their LAN network
// coordinates (the second node defaults to the agent's own), printed as Consul prints it;
// -wan compares servers' WAN coordinates, the nodes named `<node>.<dc>`.

import type { Coordinate } from '../api/coordinate-types.ts';
import type { ConsulClient } from '../api/index.ts';
import { estimateRtt, intersectCoordinates } from '../gossip/index.ts';
import { step, withClient } from './client-command.ts';
import { HTTP_CLIENT_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { failUi } from './catalog-flags.ts';
import { commandHelp } from './usage.ts';

/** Consul's line: `Estimated a <-> b rtt: 1.234 ms (using LAN coordinates)`. */
export function rttLine(a: string, b: string, c1: Coordinate, c2: Coordinate, source: 'LAN' | 'WAN'): string {
  return `Estimated ${a} <-> ${b} rtt: ${(estimateRtt(c1, c2) * 1000).toFixed(3)} ms (using ${source} coordinates)`;
}

/** The `rtt` command. */
export const rttCommand: Command = {
  name: 'rtt',
  synopsis: 'Estimates network round trip time between nodes',
  flags: [
    { name: 'wan', kind: 'bool', usage: 'Use WAN coordinates instead of LAN coordinates.' },
    ...HTTP_CLIENT_FLAGS,
  ],
  help: `
Usage: proconsul rtt [options] node1 [node2]

  Estimates the round trip time between two nodes using Consul's network
  coordinate model of the cluster.

  At least one node name is required. If the second node name isn't given, it
  is set to the agent's node name. Note that these are node names as known to
  Consul as "consul members" would show, not IP addresses.

  By default, the two nodes are assumed to be nodes in the local datacenter
  and the LAN coordinates are used. If the -wan option is given, then the WAN
  coordinates are used, and the node names must be suffixed by a period and
  the datacenter (eg. "myserver.dc1").

  It is not possible to measure between LAN coordinates and WAN coordinates
  because they are maintained by independent Serf gossip areas, so they are
  not compatible.

      $ proconsul rtt web-1
      $ proconsul rtt web-1 db-2
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const nodes = [...flags.args];
    if (nodes.length < 1 || nodes.length > 2) {
      return out.fail(`One or two node names must be specified\n\n${commandHelp(this, [])}`);
    }
    return withClient(flags, io, async (client) => {
      if (flags.values.wan === true) return await wanRtt(client, nodes, io);
      if (nodes.length < 2) nodes.push(await step('Unable to look up agent info', async () => (await client.agent.self()).data.Config.NodeName));
      return await lanRtt(client, nodes[0], nodes[1], io);
    });
  },
};

async function lanRtt(client: ConsulClient, a: string, b: string, io: CliIO): Promise<number> {
  const out = failUi(io);
  let entries;
  try {
    entries = (await client.coordinate.nodes()).data;
  } catch (err) {
    return out.fail(`Error getting coordinates: ${(err as Error).message}`);
  }
  // Node names match case-insensitively, one coordinate per network segment.
  const cs1 = new Map<string, Coordinate>();
  const cs2 = new Map<string, Coordinate>();
  for (const e of entries) {
    if (e.Node.toLowerCase() === a.toLowerCase()) cs1.set(e.Segment, e.Coord);
    if (e.Node.toLowerCase() === b.toLowerCase()) cs2.set(e.Segment, e.Coord);
  }
  const [c1, c2] = intersectCoordinates(cs1, cs2);
  if (!c1) return out.fail(`Could not find a coordinate for node ${JSON.stringify(a)}`);
  if (!c2) return out.fail(`Could not find a coordinate for node ${JSON.stringify(b)}`);
  out.info(rttLine(a, b, c1, c2, 'LAN'));
  return 0;
}

// Consul's -wan branch: both nodes as <node>.<dc>, coordinates from /v1/coordinate/datacenters
// compared only within one area; when the pair is not found both count as missing.
async function wanRtt(client: ConsulClient, nodes: string[], io: CliIO): Promise<number> {
  const out = failUi(io);
  if (nodes.length < 2) {
    try {
      const { Config } = (await client.agent.self()).data;
      nodes.push(`${Config.NodeName}.${Config.Datacenter}`);
    } catch (err) {
      return out.fail(`Unable to look up agent info: ${(err as Error).message}`);
    }
  }
  const [p1, p2] = [nodes[0].split('.'), nodes[1].split('.')];
  if (p1.length !== 2 || p2.length !== 2) return out.fail('Node names must be specified as <node name>.<datacenter> with -wan');
  let dcs;
  try {
    dcs = await client.coordinate.datacenters();
  } catch (err) {
    return out.fail(`Error getting coordinates: ${(err as Error).message}`);
  }
  let [area1, area2] = ['', ''];
  let c1: Coordinate | undefined;
  let c2: Coordinate | undefined;
  for (const dc of dcs) {
    for (const e of dc.Coordinates) {
      if (dc.Datacenter === p1[1] && e.Node.toLowerCase() === p1[0].toLowerCase()) [area1, c1] = [dc.AreaID, e.Coord];
      if (dc.Datacenter === p2[1] && e.Node.toLowerCase() === p2[0].toLowerCase()) [area2, c2] = [dc.AreaID, e.Coord];
      if (area1 === area2 && c1 && c2) {
        out.info(rttLine(nodes[0], nodes[1], c1, c2, 'WAN'));
        return 0;
      }
    }
  }
  return out.fail(`Could not find a coordinate for node ${JSON.stringify(nodes[0])}`);
}
