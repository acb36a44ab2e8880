// `proconsul operator raft transfer-leader`: moves leadership to the server with -id, or to
// any other voter.
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';

/** The `operator raft transfer-leader` command. */
export const operatorRaftTransferLeaderCommand: Command = {
  name: 'operator raft transfer-leader',
  synopsis: 'Transfer raft leadership to another node',
  flags: [
    { name: 'id', kind: 'string', default: '', usage: 'The ID of the node to transfer leadership to.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul operator raft transfer-leader [options]

  Transfer raft leadership to another node.

      $ proconsul operator raft transfer-leader -id=<server id>
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const id = String(flags.values.id ?? '');
      const { data } = await client.json<{ Success: boolean }>({ method: 'POST', path: '/v1/operator/raft/transfer-leader', query: { id: id || undefined } })
        .catch((err: Error) => { throw new Error(`Failed to transfer leadership ${err.message}`); });
      if (!data.Success) throw new Error('Failed to transfer leadership');
      ui(io).info('Success');
      return 0;
    }, 'Error transfering leadership');
  },
};
