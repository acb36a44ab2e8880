// `proconsul peering generate-token`: asks the agent for a peering token (command/peering/generate),
// printed as is or as Consul's JSON response.

import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { mapFlag } from './catalog-flags.ts';
import { nameAndFormat, PEERING_FORMAT_FLAG } from './peering.ts';
import { peeringGenerateToken } from '../api/peering.ts';

/** The `peering generate-token` command. */
export const peeringGenerateTokenCommand: Command = {
  name: 'peering generate-token',
  synopsis: 'Generate a peering token',
  flags: [
    { name: 'name', kind: 'string', default: '', usage: '(Required) The local name assigned to the peer cluster.' },
    {
      name: 'meta', kind: 'list', default: [],
      usage: 'Metadata to associate with the peering, formatted as key=value. This flag may be specified multiple times to set multiple metadata fields.',
    },
    {
      name: 'server-external-addresses', kind: 'string', default: '',
      usage: 'A list of addresses to put into the generated token, formatted as a comma-separate list. Addresses are the form of <host or IP>:port. This could be used to specify load balancer(s) or external IPs to reach the servers from the dialing side, and will override any server addresses obtained from the "consul" service.',
    },
    PEERING_FORMAT_FLAG,
    ...HTTP_FLAGS, ...PARTITION_FLAGS,
  ],
  help: `
Usage: proconsul peering generate-token [options] -name <peer name>

  Generate a peering token. The name provided will be used locally by
  this cluster to refer to the peering connection. Re-generating a token
  for a given name will not interrupt any active connection, but will
  invalidate any unused token for that name.

  Example:

    $ proconsul peering generate-token -name west-dc

  Example using a load balancer in front of the servers:

    $ proconsul peering generate-token -name west-dc -server-external-addresses load-balancer.example.com:8500
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      const checked = nameAndFormat(flags, out);
      if (!checked) return 1;
      const { name, format } = checked;
      const meta = mapFlag(flags, this.flags, 'meta', io);
      if (!meta) return 1;
      const addrs = String(flags.values['server-external-addresses']);
      // Consul puts the -partition flag (not CONSUL_PARTITION) in the body as well.
      const partition = String(flags.values.partition ?? '');
      const res = await peeringGenerateToken(client, {
        PeerName: name, ...(partition ? { Partition: partition } : {}), ...(Object.keys(meta).length ? { Meta: meta } : {}),
        ...(addrs ? { ServerExternalAddresses: addrs.split(',') } : {}),
      }).catch((err: Error) => {
        throw new Error(`Error generating peering token for ${name}: ${err.message}`);
      });
      if (format === 'json') io.stdout(`${JSON.stringify(res)}\n`);
      else out.info(res.PeeringToken);
      return 0;
    }, (err) => err.message);
  },
};
