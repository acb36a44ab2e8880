// `proconsul operator autopilot get-config`: the autopilot configuration as `Key = value` lines.
import { HTTP_FLAGS, openClient, staleFlag } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { autopilotConfig } from './operator-api.ts';

/** The configuration fields in Consul's output order; strings are quoted. */
const FIELDS = [
  'CleanupDeadServers', 'LastContactThreshold', 'MaxTrailingLogs', 'MinQuorum', 'ServerStabilizationTime',
  'RedundancyZoneTag', 'DisableUpgradeMigration', 'UpgradeVersionTag',
] as const;
const QUOTED = new Set(['RedundancyZoneTag', 'UpgradeVersionTag']);

/** The `operator autopilot get-config` command. */
export const operatorAutopilotGetConfigCommand: Command = {
  name: 'operator autopilot get-config',
  synopsis: 'Display the current Autopilot configuration',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul operator autopilot get-config [options]

  Displays the current Autopilot configuration.

      $ proconsul operator autopilot get-config
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const client = openClient(flags, io);
    if (!client) return 1;
    try {
      const cfg = await autopilotConfig(client, staleFlag(flags));
      out.info(FIELDS.map((f) => `${f} = ${QUOTED.has(f) ? JSON.stringify(cfg[f] ?? '') : String(cfg[f])}`).join('\n'));
      return 0;
    } catch (err) {
      out.error(`Error querying Autopilot configuration: ${(err as Error).message}`);
      return 1;
    } finally {
      client.close();
    }
  },
};
