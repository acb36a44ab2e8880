// `proconsul kv delete`: remove a key, a prefix (-recurse) or a key at a known index (-cas),
// with `consul kv delete`'s checks, messages and exit codes.

import { HTTP_FLAGS, openClient } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `kv delete` command. */
export const kvDeleteCommand: Command = {
  name: 'kv delete',
  synopsis: 'Removes data from the KV store',
  flags: [
    { name: 'cas', kind: 'bool', usage: 'Perform a Check-And-Set operation. Specifying this value also requires the -modify-index flag to be set. The default value is false.' },
    { name: 'modify-index', kind: 'uint', default: 0, usage: 'Unsigned integer representing the ModifyIndex of the key. This is used in combination with the -cas flag.' },
    { name: 'recurse', kind: 'bool', usage: 'Recursively delete all keys with the path. The default value is false.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul kv delete [options] KEY_OR_PREFIX

  Removes the value from Consul's key-value store at the given path. If no
  key exists at the path, no action is taken.

  To delete the value for the key named "foo" in the key-value store:

      $ proconsul kv delete foo

  To delete all keys which start with "foo", specify the -recurse option:

      $ proconsul kv delete -recurse foo

  This will delete the keys named "foo", "food", and "foo/bar/zip" if they
  existed.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (flags.args.length > 1) {
      out.error(`Too many arguments (expected 1, got ${flags.args.length})`);
      return 1;
    }
    let key = flags.args[0] ?? '';
    if (key.startsWith('/')) key = key.slice(1);
    const cas = !!flags.values.cas;
    const recurse = !!flags.values.recurse;
    const modifyIndex = Number(flags.values['modify-index']);
    const problem =
      key === '' && !recurse ? 'Error! Missing KEY argument'
      : cas && modifyIndex === 0 ? 'Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.'
      : modifyIndex !== 0 && !cas ? 'Cannot specify -modify-index without -cas!'
      : recurse && cas ? 'Cannot specify both -cas and -recurse!'
      : '';
    if (problem) {
      out.error(problem);
      return 1;
    }
    const client = openClient(flags, io);
    if (!client) return 1;
    try {
      if (recurse) {
        await client.kv.delete(key, { recurse: true }).catch((err: Error) => {
          throw new Error(`Error! Did not delete prefix ${key}: ${err.message}`);
        });
        out.info(`Success! Deleted keys with prefix: ${key}`);
        return 0;
      }
      if (cas) {
        const { data: ok } = await client.kv.delete(key, { cas: modifyIndex }).catch((err: Error) => {
          throw new Error(`Error! Did not delete key ${key}: ${err.message}`);
        });
        if (!ok) {
          out.error(`Error! Did not delete key ${key}: CAS failed`);
          return 1;
        }
        out.info(`Success! Deleted key: ${key}`);
        return 0;
      }
      await client.kv.delete(key).catch((err: Error) => {
        throw new Error(`Error deleting key ${key}: ${err.message}`);
      });
      out.info(`Success! Deleted key: ${key}`);
      return 0;
    } catch (err) {
      out.error((err as Error).message);
      return 1;
    } finally {
      client.close();
    }
  },
};
