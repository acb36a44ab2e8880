// `proconsul operator raft list-peers`: the Raft configuration as Consul's columns (Node, ID,
// Address, State, Voter, RaftProtocol, Commit Index, Trails Leader By).
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS, staleFlag } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { columnize } from './catalog-columns.ts';
import { autopilotHealth, raftConfiguration } from './operator-api.ts';

/** The `operator raft list-peers` command. */
export const operatorRaftListPeersCommand: Command = {
  name: 'operator raft list-peers',
  synopsis: 'Display the current Raft peer configuration',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul operator raft list-peers [options]

  Displays the current Raft peer configuration.

      $ proconsul operator raft list-peers -stale
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      ui(io).info(await listPeers(client, staleFlag(flags)));
      return 0;
    }, 'Error getting peers');
  },
};

async function listPeers(client: Parameters<typeof raftConfiguration>[0], stale: boolean): Promise<string> {
  const reply = await raftConfiguration(client, stale).catch((err: Error) => {
    throw new Error(`Failed to retrieve raft configuration: ${err.message}`);
  });
  const health = await autopilotHealth(client, stale).catch((err: Error) => {
    throw new Error(`Failed to retrieve autopilot health: ${err.message}`);
  });
  const byId = new Map(health.Servers.map((s) => [s.ID, s]));
  const leaderIndex = byId.get(reply.Servers.find((s) => s.Leader)?.ID ?? '')?.LastIndex ?? 0;
  const rows = [['Node', 'ID', 'Address', 'State', 'Voter', 'RaftProtocol', 'Commit Index', 'Trails Leader By']];
  for (const s of reply.Servers) {
    const base = [s.Node, s.ID, s.Address, s.Leader ? 'leader' : 'follower', String(s.Voter), s.ProtocolVersion || '<=1'];
    const h = byId.get(s.ID);
    if (!h) {
      rows.push([...base, '_']);
      continue;
    }
    const trails = Math.max(0, leaderIndex - h.LastIndex);
    rows.push([...base, String(h.LastIndex), s.Leader ? '_' : `${trails} ${trails <= 1 ? 'Commit' : 'Commits'}`]);
  }
  return columnize(rows);
}
