// `proconsul acl token delete`: removes a token named by -accessor-id (unique prefix).
import { ACL_HTTP_FLAGS, runAcl, tokenAccessorFromPartial } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl token delete` command. */
export const aclTokenDeleteCommand: Command = {
  name: 'acl token delete',
  synopsis: 'Delete an ACL token',
  flags: [
    { name: 'accessor-id', kind: 'string', usage: 'The Accessor ID of the token to delete. It may be specified as a unique ID prefix but will error if the prefix matches multiple token Accessor IDs' },
    { name: 'id', kind: 'string', usage: 'DEPRECATED. Use -accessor-id instead.' },
    ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl token delete [options] -accessor-id TOKEN

  Deletes an ACL token by providing either the ID or a unique ID prefix.

      Delete by prefix:

          $ proconsul acl token delete -accessor-id b6b85

      Delete by full ID:

          $ proconsul acl token delete -accessor-id b6b856da-5193-4e78-845a-7d61ca8371ba
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      const partial = r.str('accessor-id') || r.str('id');
      if (partial === '') return r.fail('Must specify the -accessor-id parameter');
      const accessor = await r.or('Error determining token ID', () => tokenAccessorFromPartial(r.client, partial));
      await r.or(`Error deleting token ${JSON.stringify(accessor)}`, () => r.client.acl.tokenDelete(accessor));
      r.info(`Token ${JSON.stringify(accessor)} deleted successfully`);
      return 0;
    });
  },
};
