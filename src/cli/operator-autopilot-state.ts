// `proconsul operator autopilot state`: autopilot's view of the servers, as text or JSON.
import { withClient } from './client-command.ts';
import { HTTP_FLAGS, staleFlag } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

interface ServerState {
  ID: string; Name: string; Address: string; Version: string; Status: string; LastContact: string; NodeStatus: string;
  LastTerm: number; LastIndex: number; Healthy: boolean; StableSince: string; NodeType: string;
  RedundancyZone?: string; UpgradeVersion?: string; ReadReplica?: boolean; Meta?: Record<string, string>;
}

interface Zone { Servers: string[]; Voters: string[]; FailureTolerance: number }

/** Consul Enterprise's AutopilotUpgrade (lists of server IDs). */
interface Upgrade {
  Status: string; TargetVersion?: string; TargetVersionVoters?: string[]; TargetVersionNonVoters?: string[];
  TargetVersionReadReplicas?: string[]; OtherVersionVoters?: string[]; OtherVersionNonVoters?: string[]; OtherVersionReadReplicas?: string[];
}

interface State {
  Healthy: boolean; FailureTolerance: number; OptimisticFailureTolerance: number; Leader: string; Voters: string[];
  Servers: Record<string, ServerState>; ReadReplicas?: string[]; RedundancyZones?: Record<string, Zone>; Upgrade?: Upgrade;
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
    return withClient(flags, io, async (client) => {
      const { data } = await client.json<State>({ method: 'GET', path: '/v1/operator/autopilot/state', options: { stale: staleFlag(flags) } });
      out.info(format === 'json' ? JSON.stringify(data, null, 4) : pretty(data));
      return 0;
    }, 'Error querying Autopilot state');
  },
};

const byKey = <T>(m: Record<string, T>) => Object.entries(m).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

/** Consul's pretty formatter: read replicas, zones and upgrade sections only when present; servers and meta sorted. */
function pretty(s: State): string {
  const lines = [
    `Healthy:                      ${s.Healthy}`,
    `Failure Tolerance:            ${s.FailureTolerance}`,
    `Optimistic Failure Tolerance: ${s.OptimisticFailureTolerance}`,
    `Leader:                       ${s.Leader}`,
    'Voters:', ...s.Voters.map((v) => `   ${v}`),
  ];
  if (s.ReadReplicas?.length) lines.push('Read Replicas:', ...s.ReadReplicas.map((v) => `   ${v}`));
  if (s.RedundancyZones && Object.keys(s.RedundancyZones).length) {
    lines.push('Redundancy Zones:');
    for (const [name, z] of byKey(s.RedundancyZones)) {
      lines.push(`   ${name}:`, `      Failure Tolerance: ${z.FailureTolerance}`, '      Voters:', ...z.Voters.map((v) => `         ${v}`),
        '      Servers:', ...z.Servers.map((v) => `         ${v}`));
    }
  }
  if (s.Upgrade) lines.push(...upgradeLines(s.Upgrade));
  lines.push('Servers:');
  for (const [, v] of byKey(s.Servers)) {
    lines.push(
      `   ${v.ID}`, `      Name:            ${v.Name}`, `      Address:         ${v.Address}`,
      `      Version:         ${v.Version}`, `      Status:          ${v.Status}`, `      Node Type:       ${v.NodeType}`,
      `      Node Status:     ${v.NodeStatus}`, `      Healthy:         ${v.Healthy}`, `      Last Contact:    ${v.LastContact}`,
      `      Last Term:       ${v.LastTerm}`, `      Last Index:      ${v.LastIndex}`,
    );
    if (v.RedundancyZone) lines.push(`      Redundancy Zone: ${v.RedundancyZone}`);
    if (v.UpgradeVersion) lines.push(`      Upgrade Version: ${v.UpgradeVersion}`);
    if (v.ReadReplica) lines.push('      Read Replica:    true');
    if (v.Meta && Object.keys(v.Meta).length) {
      lines.push('      Meta', ...byKey(v.Meta).map(([k, val]) => `         ${JSON.stringify(k)}: ${JSON.stringify(val)}`));
    }
  }
  return lines.join('\n');
}

function upgradeLines(u: Upgrade): string[] {
  const out = ['Upgrade:', `   Status:         ${u.Status}`, `   Target Version: ${u.TargetVersion ?? ''}`];
  const lists: [string, string[] | undefined][] = [
    ['Target Version Voters', u.TargetVersionVoters], ['Target Version Non-Voters', u.TargetVersionNonVoters],
    ['Target Version ReadReplicas', u.TargetVersionReadReplicas], ['Other Version Voters', u.OtherVersionVoters],
    ['Other Version Non-Voters', u.OtherVersionNonVoters], ['Other Version ReadReplicas', u.OtherVersionReadReplicas],
  ];
  for (const [title, ids] of lists) if (ids?.length) out.push(`   ${title}:`, ...ids.map((v) => `      ${v}`));
  return out;
}
