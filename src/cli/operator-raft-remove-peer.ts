// `proconsul operator raft remove-peer`: removes a server from the configuration by -id or
// -address (a live server registers itself again, as Consul's reconcile re-adds it).
import { withClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `operator raft remove-peer` command. */
export const operatorRaftRemovePeerCommand: Command = {
  name: 'operator raft remove-peer',
  synopsis: 'Remove a Consul server from the Raft configuration',
  flags: [
    { name: 'address', kind: 'string', default: '', usage: 'The address to remove from the Raft configuration.' },
    { name: 'id', kind: 'string', default: '', usage: 'The ID to remove from the Raft configuration.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul operator raft remove-peer [options]

  Remove the Consul server with given -address from the Raft configuration.

  There are rare cases where a peer may be left behind in the Raft quorum even
  though the server is no longer present and known to the cluster. This command
  can be used to remove the failed server.

      $ proconsul operator raft remove-peer -address=10.0.0.3:8300
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const address = String(flags.values.address ?? '');
    const id = String(flags.values.id ?? '');
    const problem = !address && !id ? 'an address or id is required for the peer to remove'
      : address && id ? 'cannot give both an address and id' : '';
    if (problem) {
      out.error(`Error removing peer: ${problem}`);
      return 1;
    }
    return withClient(flags, io, async (client) => {
      await client.json<unknown>({ method: 'DELETE', path: '/v1/operator/raft/peer', query: address ? { address } : { id } });
      out.info(address ? `Removed peer with address ${JSON.stringify(address)}` : `Removed peer with id ${JSON.stringify(id)}`);
      return 0;
    }, 'Error removing peer');
  },
};
