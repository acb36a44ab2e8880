// `proconsul acl token clone`: a new token with the same links as -accessor-id and a new description.
import { formatToken } from './acl-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, runAcl, tokenAccessorFromPartial } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl token clone` command. */
export const aclTokenCloneCommand: Command = {
  name: 'acl token clone',
  synopsis: 'Clone an ACL token',
  flags: [
    { name: 'accessor-id', kind: 'string', usage: 'The Accessor ID of the token to clone. It may be specified as a unique ID prefix but will error if the prefix matches multiple token Accessor IDs. The special value of \'anonymous\' may be provided instead of the anonymous tokens accessor ID' },
    { name: 'id', kind: 'string', usage: 'DEPRECATED. Use -accessor-id instead.' },
    { name: 'description', kind: 'string', usage: 'A description of the new cloned token' },
    ...outputFlags('token'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl token clone [options]

  This command will clone a token. When cloning an alternate description may be given
  for use with the new token.

  Example:

          $ proconsul acl token clone -accessor-id abcd -description "replication"
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      const partial = r.str('accessor-id') || r.str('id');
      if (partial === '') return r.fail('Cannot clone a token without specifying the -accessor-id parameter');
      const accessor = await r.or('Error determining token ID', () => tokenAccessorFromPartial(r.client, partial));
      r.info(await r.or('Failed to clone token', async () =>
        formatToken((await r.client.acl.tokenClone(accessor, r.str('description'))).data, r.format, r.meta)));
      return 0;
    });
  },
};
