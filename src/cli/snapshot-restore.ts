// `proconsul snapshot restore`: uploads a snapshot file; the servers verify it and replace their
// whole state with it atomically (Consul's command/snapshot/restore).
import fs from 'node:fs/promises';
import { goFileError } from '../api/errors.ts';
import { step, withClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { parseFileCommand, ui, type CliIO, type Command } from './io.ts';

/** The `snapshot restore` command. */
export const snapshotRestoreCommand: Command = {
  name: 'snapshot restore',
  synopsis: 'Restores snapshot of Consul server state',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul snapshot restore [options] FILE

  Restores an atomic, point-in-time snapshot of the state of the Consul servers
  which includes key/value entries, service catalog, prepared queries, sessions,
  and ACLs.

  Every restored record gets a new, higher index, so blocking queries wake up
  and check-and-set writes prepared before the restore fail safely.

  If ACLs are enabled, a management token must be supplied in order to perform
  snapshot operations.

  To restore a snapshot from the file "backup.snap":

      $ proconsul snapshot restore backup.snap

  For a full list of options and examples, please see the Consul documentation.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const parsed = parseFileCommand(this.flags, args, io);
    if (!parsed) return 1;
    const { flags, file } = parsed;
    return withClient(flags, io, async (client) => {
      const opened = (err: Error) => `Error opening snapshot file: ${goFileError(err as NodeJS.ErrnoException, file)}`;
      await client.snapshot.restore(await step(opened, () => fs.readFile(file)));
      ui(io).info('Restored snapshot');
      return 0;
    }, 'Error restoring snapshot');
  },
};
