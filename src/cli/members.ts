// `proconsul members`: the gossip pool as the agent sees it, in Consul's columns (Node Address
// Status Type Build Protocol DC Partition Segment); -detailed shows every tag, -status filters
// by a status regexp, -wan asks for the WAN pool.

import type { AgentMember } from '../api/agent.ts';
import { withClient } from './client-command.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { columnize } from './catalog-columns.ts';
import { failUi } from './catalog-flags.ts';

const STATUS = ['none', 'alive', 'leaving', 'left', 'failed'];

/** Serf's status name for a numeric member status. */
export function statusName(code: number): string {
  return STATUS[code] ?? `unknown(${code})`;
}

function role(m: AgentMember): string {
  return m.Tags.role === 'consul' ? 'server' : m.Tags.role === 'node' ? 'client' : 'unknown';
}

/** Consul's standard (non-detailed) members table. */
export function membersTable(members: AgentMember[]): string {
  const rows = members.map((m) => {
    const build = m.Tags.build ? m.Tags.build.split(':')[0] : '< 0.3';
    const segment = m.Tags.segment || (m.Tags.role === 'consul' ? '<all>' : '<default>');
    return [m.Name, `${m.Addr}:${m.Port}`, statusName(m.Status), role(m), build, m.Tags.vsn ?? '', m.Tags.dc ?? '', m.Tags.ap || 'default', segment];
  });
  return columnize([['Node', 'Address', 'Status', 'Type', 'Build', 'Protocol', 'DC', 'Partition', 'Segment'], ...rows]);
}

/** Consul's -detailed table: every tag as sorted `k=v` pairs. */
export function membersDetailed(members: AgentMember[]): string {
  const rows = members.map((m) => {
    const tags = Object.keys(m.Tags).sort().map((k) => `${k}=${m.Tags[k]}`).join(',');
    return [m.Name, `${m.Addr}:${m.Port}`, statusName(m.Status), tags];
  });
  return columnize([['Node', 'Address', 'Status', 'Tags'], ...rows]);
}

/** The `members` command. */
export const membersCommand: Command = {
  name: 'members',
  synopsis: 'Lists the members of a Consul cluster',
  flags: [
    { name: 'detailed', kind: 'bool', usage: 'Provides detailed information about nodes.' },
    { name: 'status', kind: 'string', default: '.*', usage: 'If provided, output is filtered to only nodes matching the regular expression for status.' },
    { name: 'wan', kind: 'bool', usage: 'If the agent is in server mode, this can be used to return the other peers in the WAN pool.' },
    { name: 'segment', kind: 'string', default: '_all', usage: '(Enterprise-only) If provided, output is filtered to only nodes in the given segment.' },
    ...HTTP_FLAGS, ...PARTITION_FLAGS,
  ],
  help: `
Usage: proconsul members [options]

  Outputs the members of a running Consul agent.

      $ proconsul members
      $ proconsul members -status=failed
      $ proconsul members -detailed
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    let statusRe: RegExp;
    try {
      statusRe = new RegExp(String(flags.values.status));
    } catch (err) {
      return out.fail(`Failed to compile status regexp: ${(err as Error).message}`);
    }
    return withClient(flags, io, async (client) => {
      const all = (await client.agent.members(flags.values.wan === true, undefined, String(flags.values.segment))).data;
      const members = all.filter((m) => statusRe.test(statusName(m.Status))).sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
      if (members.length === 0) return 2;
      out.info(flags.values.detailed === true ? membersDetailed(members) : membersTable(members));
      return 0;
    }, 'Error retrieving members');
  },
};
