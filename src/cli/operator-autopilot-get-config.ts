// `proconsul operator autopilot get-config`: the autopilot configuration as `Key = value` lines.
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS, staleFlag } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
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
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const cfg = await autopilotConfig(client, staleFlag(flags));
      ui(io).info(FIELDS.map((f) => `${f} = ${QUOTED.has(f) ? JSON.stringify(cfg[f] ?? '') : String(cfg[f])}`).join('\n'));
      return 0;
    }, 'Error querying Autopilot configuration');
  },
};
