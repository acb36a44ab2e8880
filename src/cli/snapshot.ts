// `proconsul snapshot`: parent of save, restore, inspect and agent; on its own it prints its help.
import { RUN_RESULT_HELP, type Command } from './io.ts';

/** The `snapshot` command. */
export const snapshotCommand: Command = {
  name: 'snapshot',
  synopsis: 'Saves, restores and inspects snapshots of Consul server state',
  flags: [],
  help: `
Usage: proconsul snapshot <subcommand> [options] [args]

  This command has subcommands for saving, restoring, and inspecting the state
  of the Consul servers for disaster recovery. These are atomic, point-in-time
  snapshots which include key/value entries, service catalog, prepared queries,
  sessions, and ACLs.

  If ACLs are enabled, a management token must be supplied in order to perform
  snapshot operations.

  Create a snapshot:

      $ proconsul snapshot save backup.snap

  Restore a snapshot:

      $ proconsul snapshot restore backup.snap

  Inspect a snapshot:

      $ proconsul snapshot inspect backup.snap

  Run a daemon process that locally saves a snapshot every hour (open in
  Proconsul, Enterprise-only in Consul):

      $ proconsul snapshot agent

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
