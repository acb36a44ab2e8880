// `proconsul operator autopilot state`: autopilot's view of the servers, as text or JSON.
import { HTTP_FLAGS, openClient, staleFlag } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

interface ServerState {
  ID: string; Name: string; Address: string; Version: string; Status: string; LastContact: string;
  LastTerm: number; LastIndex: number; Healthy: boolean; StableSince: string; NodeType: string;
}

interface State {
  Healthy: boolean; FailureTolerance: number; OptimisticFailureTolerance: number; Leader: string; Voters: string[];
  Servers: Record<string, ServerState>;
}

/** The `operator autopilot state` command. */
export const operatorAutopilotStateCommand: Command = {
  name: 'operator autopilot state',
  synopsis: 'Display the current Autopilot state',
  flags: [
    { name: 'format', kind: 'string', default: 'pretty', usage: 'Output format {pretty|json}' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul operator autopilot state [options]

  Displays the current Autopilot state.

      $ proconsul operator autopilot state -format=json
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const format = String(flags.values.format);
    if (format !== 'pretty' && format !== 'json') {
      out.error(`Invalid format: ${format}`);
      return 1;
    }
    const client = openClient(flags, io);
    if (!client) return 1;
    try {
      const { data } = await client.json<State>({ method: 'GET', path: '/v1/operator/autopilot/state', options: { stale: staleFlag(flags) } });
      out.info(format === 'json' ? JSON.stringify(data, null, 3) : pretty(data));
      return 0;
    } catch (err) {
      out.error(`Error querying Autopilot state: ${(err as Error).message}`);
      return 1;
    } finally {
      client.close();
    }
  },
};

function pretty(s: State): string {
  const lines = [
    `Healthy:                      ${s.Healthy}`,
    `Failure Tolerance:            ${s.FailureTolerance}`,
    `Optimistic Failure Tolerance: ${s.OptimisticFailureTolerance}`,
    `Leader:                       ${s.Leader}`,
    'Voters:', ...s.Voters.map((v) => `   ${v}`), '', 'Servers:',
  ];
  for (const v of Object.values(s.Servers)) {
    lines.push(
      `   ${v.ID}`, `      Name:            ${v.Name}`, `      Address:         ${v.Address}`,
      `      Version:         ${v.Version}`, `      Status:          ${v.Status}`, `      Node Type:       ${v.NodeType}`,
      `      Healthy:         ${v.Healthy}`, `      Last Contact:    ${v.LastContact}`, `      Last Term:       ${v.LastTerm}`,
      `      Last Index:      ${v.LastIndex}`, `      Stable Since:    ${v.StableSince}`, '',
    );
  }
  return lines.join('\n').trimEnd();
}
