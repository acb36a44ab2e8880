// `proconsul acl token read`: one token by -accessor-id (unique prefix, or `anonymous`) or -self.
import { formatToken } from './acl-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, runAcl, tokenAccessorFromPartial } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl token read` command. */
export const aclTokenReadCommand: Command = {
  name: 'acl token read',
  synopsis: 'Read an ACL token',
  flags: [
    { name: 'accessor-id', kind: 'string', usage: 'The Accessor ID of the token to read. It may be specified as a unique ID prefix but will error if the prefix matches multiple token Accessor IDs' },
    { name: 'id', kind: 'string', usage: 'DEPRECATED. Use -accessor-id instead.' },
    { name: 'self', kind: 'bool', usage: 'Indicates that the current HTTP token should be read by secret ID instead of expecting a -accessor-id option' },
    ...outputFlags('token'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl token read [options] -accessor-id TOKENID

  This command will retrieve and print out the details of
  a single token.

  Using a partial ID:

          $ proconsul acl token read -accessor-id 4be56c77-82

  Using the full ID:

          $ proconsul acl token read -accessor-id 4be56c77-8244-4c7d-b08c-667b8c71baed
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      const partial = r.str('accessor-id') || r.str('id');
      const self = r.flags.values.self === true;
      if (partial === '' && !self) return r.fail('Must specify the -accessor-id parameter');
      const accessor = self ? '' : await r.or('Error determining token ID', () => tokenAccessorFromPartial(r.client, partial));
      r.info(await r.or(`Error reading token ${JSON.stringify(accessor)}`, async () => {
        const t = self ? await r.client.acl.tokenReadSelf() : await r.client.acl.tokenRead(accessor);
        return formatToken(t.data, r.format, r.meta);
      }));
      return 0;
    });
  },
};
