// `proconsul snapshot save`: downloads a snapshot to FILE.unverified, verifies the archive's
// checksums, then renames it into place (Consul's command/snapshot/save).
import fs from 'node:fs/promises';
import type { ConsulClient } from '../api/index.ts';
import { readArchive } from '../snapshot/index.ts';
import { step, withClient } from './client-command.ts';
import { HTTP_FLAGS, staleFlag } from './http-flags.ts';
import { parseFileCommand, ui, type CliIO, type Command } from './io.ts';

/** A CLI failure whose message is already in Consul's words. */
/**
 * Saves a verified snapshot to `file` (via `file.unverified`); resolves to the snapshot's index.
 * A failed step throws a StepFailure with Consul's text.
 */
export async function saveVerified(client: ConsulClient, file: string, stale: boolean): Promise<number> {
  const snap = await step('Error saving snapshot', () => client.snapshot.save({ stale }));
  const unverified = `${file}.unverified`;
  try {
    await step('Error writing unverified snapshot file', () => fs.writeFile(unverified, snap.data, { mode: 0o600 }));
    const written = await fs.readFile(unverified);
    await step('Error verifying snapshot file', () => readArchive(written));
    await step(`Error renaming ${JSON.stringify(unverified)} to ${JSON.stringify(file)}`, () => fs.rename(unverified, file));
  } finally {
    await fs.rm(unverified, { force: true });
  }
  return snap.meta.index;
}

/** The `snapshot save` command. */
export const snapshotSaveCommand: Command = {
  name: 'snapshot save',
  synopsis: 'Saves snapshot of Consul server state',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul snapshot save [options] FILE

  Retrieves an atomic, point-in-time snapshot of the state of the Consul servers
  which includes key/value entries, service catalog, prepared queries, sessions,
  and ACLs.

  If ACLs are enabled, a management token must be supplied in order to perform
  snapshot operations.

  To create a snapshot from the leader server and save it to "backup.snap":

      $ proconsul snapshot save backup.snap

  To create a potentially stale snapshot from any available server (useful if no
  leader is available):

      $ proconsul snapshot save -stale backup.snap

  For a full list of options and examples, please see the Consul documentation.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const parsed = parseFileCommand(this.flags, args, io);
    if (!parsed) return 1;
    const { flags, file } = parsed;
    return withClient(flags, io, async (client) => {
      const index = await saveVerified(client, file, staleFlag(flags));
      ui(io).info(`Saved and verified snapshot to index ${index}`);
      return 0;
    });
  },
};
