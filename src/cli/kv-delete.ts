// `proconsul kv delete`: remove a key, a prefix (-recurse) or a key at a known index (-cas),
// with `consul kv delete`'s checks, messages and exit codes.

import { asIs, fail, step, withClient } from './client-command.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { parseKeyCommand } from './kv-key.ts';

/** The `kv delete` command. */
export const kvDeleteCommand: Command = {
  name: 'kv delete',
  synopsis: 'Removes data from the KV store',
  flags: [
    { name: 'cas', kind: 'bool', usage: 'Perform a Check-And-Set operation. Specifying this value also requires the -modify-index flag to be set. The default value is false.' },
    { name: 'modify-index', kind: 'uint', default: 0, usage: 'Unsigned integer representing the ModifyIndex of the key. This is used in combination with the -cas flag.' },
    { name: 'recurse', kind: 'bool', usage: 'Recursively delete all keys with the path. The default value is false.' },
    ...HTTP_FLAGS,
    ...MULTI_TENANCY_FLAGS,
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
    const parsed = parseKeyCommand(this.flags, args, io);
    if (!parsed) return 1;
    const { flags, key } = parsed;
    const cas = !!flags.values.cas;
    const recurse = !!flags.values.recurse;
    const modifyIndex = Number(flags.values['modify-index']);
    const problem =
      key === '' && !recurse ? 'Error! Missing KEY argument'
      : cas && modifyIndex === 0 ? 'Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.'
      : modifyIndex !== 0 && !cas ? 'Cannot specify -modify-index without -cas!'
      : recurse && cas ? 'Cannot specify both -cas and -recurse!'
      : '';
    if (problem) return fail(io, problem);
    const out = ui(io);
    return withClient(flags, io, async (client) => {
      if (recurse) {
        await step(`Error! Did not delete prefix ${key}`, () => client.kv.delete(key, { recurse: true }));
        out.info(`Success! Deleted keys with prefix: ${key}`);
        return 0;
      }
      if (cas) {
        const { data: ok } = await step(`Error! Did not delete key ${key}`, () => client.kv.delete(key, { cas: modifyIndex }));
        if (!ok) return fail(io, `Error! Did not delete key ${key}: CAS failed`);
        out.info(`Success! Deleted key: ${key}`);
        return 0;
      }
      await step(`Error deleting key ${key}`, () => client.kv.delete(key));
      out.info(`Success! Deleted key: ${key}`);
      return 0;
    }, asIs);
  },
};
