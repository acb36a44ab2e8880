// `proconsul info`: the Stats sections of GET /v1/agent/self as Consul prints them, sections
// and keys sorted, one `\tkey = value` line per stat.

import { withClient } from './client-command.ts';
import { HTTP_CLIENT_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** Consul's `info` lines for a Stats map; `error` is the text Consul stops with on a section that is not a map. */
export function infoLines(stats: Record<string, unknown>): { lines: string[]; error?: string } {
  const lines: string[] = [];
  for (const section of Object.keys(stats).sort()) {
    // Consul prints the section name before it finds the section is not a map, then stops.
    lines.push(`${section}:`);
    const sub = stats[section];
    if (sub === null || typeof sub !== 'object' || Array.isArray(sub)) return { lines, error: 'Got invalid subkey in stats: map[]' };
    const values = sub as Record<string, unknown>;
    for (const key of Object.keys(values).sort()) lines.push(`\t${key} = ${statValue(values[key])}`);
  }
  return { lines };
}

function statValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The `info` command. */
export const infoCommand: Command = {
  name: 'info',
  synopsis: 'Provides debugging information for operators.',
  flags: [...HTTP_CLIENT_FLAGS],
  help: `Usage: proconsul info [options]

  Provides debugging information for operators

      $ proconsul info
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    return withClient(flags, io, async (client) => {
      const self = (await client.agent.self()).data;
      const out = ui(io);
      const stats = self.Stats;
      if (stats === null || typeof stats !== 'object' || Array.isArray(stats)) {
        out.error(`Agent response did not contain 'Stats' key: ${JSON.stringify(self)}`);
        return 1;
      }
      const { lines, error } = infoLines(stats as Record<string, unknown>);
      for (const l of lines) out.info(l);
      if (error === undefined) return 0;
      out.error(error);
      return 1;
    }, 'Error querying agent');
  },
};
