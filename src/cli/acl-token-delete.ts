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
      let accessor: string;
      try {
        accessor = await tokenAccessorFromPartial(r.client, partial);
      } catch (err) {
        return r.fail(`Error determining token ID: ${(err as Error).message}`);
      }
      try {
        await r.client.acl.tokenDelete(accessor);
      } catch (err) {
        return r.fail(`Error deleting token ${JSON.stringify(accessor)}: ${(err as Error).message}`);
      }
      r.info(`Token ${JSON.stringify(accessor)} deleted successfully`);
      return 0;
    });
  },
};
