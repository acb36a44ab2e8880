// `proconsul operator`, `operator raft` and `operator autopilot`: parents of the operator
// subcommands; on their own they print their help (exit 1).
import { RUN_RESULT_HELP, type Command } from './io.ts';

/** The `operator` command. */
export const operatorCommand: Command = {
  name: 'operator',
  synopsis: 'Provides cluster-level tools for Consul operators',
  flags: [],
  help: `
Usage: proconsul operator <subcommand> [options]

  Provides cluster-level tools for Consul operators, such as interacting with
  the Raft subsystem. NOTE: Use this command with extreme caution, as improper
  use could lead to a Consul outage and even loss of data.

      $ proconsul operator raft list-peers
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};

/** The `operator raft` command. */
export const operatorRaftCommand: Command = {
  name: 'operator raft',
  synopsis: 'Provides cluster-level tools for Consul operators',
  flags: [],
  help: `
Usage: proconsul operator raft <subcommand> [options]

  The Raft operator command is used to interact with Consul's Raft subsystem.
  Proconsul's "Raft configuration" is the set of live servers on the shared
  store and the server holding the leader key.

  List Raft peers:

      $ proconsul operator raft list-peers

  Remove a peer, or move leadership to another server:

      $ proconsul operator raft remove-peer -id=<server id>
      $ proconsul operator raft transfer-leader -id=<server id>
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};

/** The `operator autopilot` command. */
export const operatorAutopilotCommand: Command = {
  name: 'operator autopilot',
  synopsis: 'Provides tools for modifying Autopilot configuration',
  flags: [],
  help: `
Usage: proconsul operator autopilot <subcommand> [options]

  The Autopilot operator command is used to interact with Consul's Autopilot
  subsystem. The command can be used to view or modify the current configuration.

      $ proconsul operator autopilot get-config
      $ proconsul operator autopilot set-config -cleanup-dead-servers=false
      $ proconsul operator autopilot state
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};

/** The `operator usage` command. */
export const operatorUsageCommand: Command = {
  name: 'operator usage',
  synopsis: 'Provides cluster-level usage information',
  flags: [],
  help: `
Usage: proconsul operator usage <subcommand> [options] [args]

  This command has subcommands for displaying usage information. The subcommands
  default to working with services registered with the local datacenter.

      $ proconsul operator usage instances
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
