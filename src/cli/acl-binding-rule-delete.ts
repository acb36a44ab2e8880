// `proconsul acl binding-rule delete`: removes a binding rule by -id (unique prefix).
import { ACL_HTTP_FLAGS, bindingRuleIDFromPartial, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl binding-rule delete` command. */
export const aclBindingRuleDeleteCommand: Command = {
  name: 'acl binding-rule delete',
  synopsis: 'Delete an ACL binding rule',
  flags: [
    { name: 'id', kind: 'string', usage: 'The ID of the binding rule to delete. It may be specified as a unique ID prefix but will error if the prefix matches multiple binding rule IDs' },
    ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl binding-rule delete -id ID [options]

  Deletes an ACL binding rule by providing the ID or a unique ID prefix.

  Delete by prefix:

    $ proconsul acl binding-rule delete -id b6b85

  Delete by full ID:

    $ proconsul acl binding-rule delete -id b6b856da-5193-4e78-845a-7d61ca8371ba
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.str('id') === '') return r.fail('Must specify the -id parameter');
      const id = await r.or('Error determining binding rule ID', () => bindingRuleIDFromPartial(r.client, r.str('id')));
      await r.or(`Error deleting binding rule ${JSON.stringify(id)}`, () => r.client.acl.bindingRuleDelete(id));
      r.info(`Binding rule ${JSON.stringify(id)} deleted successfully`);
      return 0;
    });
  },
};
