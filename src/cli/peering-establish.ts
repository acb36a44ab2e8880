// `proconsul peering establish`: establishes a peering from an acceptor's token
// (command/peering/establish).

import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { mapFlag } from './catalog-flags.ts';
import { peeringEstablish } from '../api/peering.ts';

/** The `peering establish` command. */
export const peeringEstablishCommand: Command = {
  name: 'peering establish',
  synopsis: 'Establish a peering connection',
  flags: [
    { name: 'name', kind: 'string', default: '', usage: '(Required) The local name assigned to the peer cluster.' },
    { name: 'peering-token', kind: 'string', default: '', usage: '(Required) The peering token from the accepting cluster.' },
    {
      name: 'meta', kind: 'list', default: [],
      usage: 'Metadata to associate with the peering, formatted as key=value. This flag may be specified multiple times to set multiple meta fields.',
    },
    ...HTTP_FLAGS, ...PARTITION_FLAGS,
  ],
  help: `
Usage: proconsul peering establish [options] -name <peer name> -peering-token <token>

  Establish a peering connection. The name provided will be used locally by
  this cluster to refer to the peering connection. The peering token can
  only be used once to establish the connection.

  Example:

    $ proconsul peering establish -name west-dc -peering-token <token>
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      const name = String(flags.values.name);
      if (name === '') {
        out.error('Missing the required -name flag');
        return 1;
      }
      const token = String(flags.values['peering-token']);
      if (token === '') {
        out.error('Missing the required -peering-token flag');
        return 1;
      }
      const meta = mapFlag(flags, this.flags, 'meta', io);
      if (!meta) return 1;
      // Consul puts the -partition flag (not CONSUL_PARTITION) in the body as well.
      const partition = String(flags.values.partition ?? '');
      const req = { PeerName: name, PeeringToken: token, ...(partition ? { Partition: partition } : {}), ...(Object.keys(meta).length ? { Meta: meta } : {}) };
      await peeringEstablish(client, req).catch((err: Error) => {
        throw new Error(`Error establishing peering for ${name}: ${err.message}`);
      });
      out.info(`Successfully established peering connection with ${name}`);
      return 0;
    }, (err) => err.message);
  },
};
