// `proconsul operator autopilot set-config`: changes the given settings with a check-and-set
// on the configuration's ModifyIndex, as Consul does.
import { formatGoDuration } from '../duration.ts';
import { asIs, runWithClient, step } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { autopilotConfig, setAutopilotConfig } from './operator-api.ts';

/** Flag name → configuration field. */
const FLAG_FIELDS: Record<string, string> = {
  'cleanup-dead-servers': 'CleanupDeadServers', 'max-trailing-logs': 'MaxTrailingLogs', 'min-quorum': 'MinQuorum',
  'last-contact-threshold': 'LastContactThreshold', 'server-stabilization-time': 'ServerStabilizationTime',
  'redundancy-zone-tag': 'RedundancyZoneTag', 'disable-upgrade-migration': 'DisableUpgradeMigration',
  'upgrade-version-tag': 'UpgradeVersionTag',
};

/** The `operator autopilot set-config` command. */
export const operatorAutopilotSetConfigCommand: Command = {
  name: 'operator autopilot set-config',
  synopsis: 'Modify the current Autopilot configuration',
  flags: [
    { name: 'cleanup-dead-servers', kind: 'bool', usage: 'Controls whether Consul will automatically remove dead servers when new ones are successfully added. Must be one of `true|false`.' },
    { name: 'max-trailing-logs', kind: 'uint', usage: 'Controls the maximum number of log entries that a server can trail the leader by before being considered unhealthy.' },
    { name: 'min-quorum', kind: 'uint', usage: 'Sets the minimum number of servers required in a cluster before autopilot can prune dead servers.' },
    { name: 'last-contact-threshold', kind: 'duration', usage: 'Controls the maximum amount of time a server can go without contact from the leader before being considered unhealthy. Must be a duration value such as `200ms`.' },
    { name: 'server-stabilization-time', kind: 'duration', usage: 'Controls the minimum amount of time a server must be stable in the \'healthy\' state before being added to the cluster. Only takes effect if all servers are running Raft protocol version 3 or higher. Must be a duration value such as `10s`.' },
    { name: 'redundancy-zone-tag', kind: 'string', usage: 'Controls the node_meta tag name used for separating servers into different redundancy zones.' },
    { name: 'disable-upgrade-migration', kind: 'bool', usage: 'Controls whether Consul will avoid promoting new servers until it can perform a migration. Must be one of `true|false`.' },
    { name: 'upgrade-version-tag', kind: 'string', usage: 'Controls the node_meta tag name used for version info when performing upgrade migrations. If left blank, the Consul version will be used.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul operator autopilot set-config [options]

  Modifies the current Autopilot configuration.

      $ proconsul operator autopilot set-config -cleanup-dead-servers=false -max-trailing-logs=500
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const cfg = await step('Error querying Autopilot configuration', () => autopilotConfig(client, false));
      for (const [flag, field] of Object.entries(FLAG_FIELDS)) {
        if (!flags.given.has(flag)) continue;
        const v = flags.values[flag];
        cfg[field] = field === 'LastContactThreshold' || field === 'ServerStabilizationTime' ? formatGoDuration(Number(v)) : typeof v === 'bigint' ? Number(v) : v;
      }
      const ok = await step('Error setting Autopilot configuration', () => setAutopilotConfig(client, cfg, Number(cfg.ModifyIndex ?? 0)));
      ui(io).info(ok ? 'Configuration updated!' : 'Configuration could not be atomically updated, please try again');
      return ok ? 0 : 1;
    }, asIs);
  },
};
