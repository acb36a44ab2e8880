// `proconsul version`: Consul's version report (pretty or -format=json). JSON `Version` is the
// Consul API level Proconsul follows, so tools that parse `consul version` keep working.

import { CONSUL_API_VERSION, PROCONSUL_VERSION, RPC_PROTOCOL, buildDate, gitRevision } from '../version.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The JSON document of `version -format=json`, Consul's VersionInfo fields in Consul's order. */
export function versionInfo(): { Version: string; Revision: string; Prerelease: string; BuildDate: string; RPC: typeof RPC_PROTOCOL } {
  return { Version: CONSUL_API_VERSION, Revision: gitRevision(), Prerelease: '', BuildDate: buildDate(), RPC: { ...RPC_PROTOCOL } };
}

/** The pretty report, Consul's lines with Proconsul's name and its Consul API level. */
export function prettyVersion(info = versionInfo()): string {
  let out = `Proconsul v${PROCONSUL_VERSION}\nConsul API level ${info.Version}\n`;
  if (info.Revision) out += `Revision ${info.Revision}\n`;
  out += `Build Date ${info.BuildDate}\n`;
  const { Default, Min, Max } = info.RPC;
  const supplement = Default < Max ? ` (agent will automatically use protocol >${Default} when speaking to compatible agents)` : '';
  out += `Protocol ${Default} spoken by default, understands ${Min} to ${Max}${supplement}\n`;
  return out;
}

/** The `version` command. */
export const versionCommand: Command = {
  name: 'version',
  synopsis: 'Prints the Proconsul version',
  flags: [{ name: 'format', kind: 'string', default: 'pretty', usage: 'Output format {pretty|json}' }],
  help: `
Usage: proconsul version [options]
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const format = String(flags.values.format);
    if (format === 'pretty') out.info(prettyVersion());
    else if (format === 'json') out.info(JSON.stringify(versionInfo(), null, '   '));
    else {
      out.error(`Unknown format: ${format}`);
      return 1;
    }
    return 0;
  },
};
