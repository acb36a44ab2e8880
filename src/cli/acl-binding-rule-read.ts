// `proconsul acl binding-rule read`: one binding rule by -id (unique prefix).
import { formatBindingRule } from './acl-auth-format.ts';
import { ACL_HTTP_FLAGS, bindingRuleIDFromPartial, outputFlags, runAcl } from './acl-flags.ts';
import { missingOr } from './client-command.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl binding-rule read` command. */
export const aclBindingRuleReadCommand: Command = {
  name: 'acl binding-rule read',
  synopsis: 'Read an ACL binding rule',
  flags: [
    { name: 'id', kind: 'string', usage: 'The ID of the binding rule to read. It may be specified as a unique ID prefix but will error if the prefix matches multiple binding rule IDs' },
    ...outputFlags('binding rule'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl binding-rule read -id ID [options]

  This command will retrieve and print out the details of a single binding
  rule.

  Read a binding rule:

    $ proconsul acl binding-rule read -id fdabbcb5-9de5-4b1a-961f-77214ae88cba
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.str('id') === '') return r.fail('Must specify the -id parameter.');
      const id = await r.or('Error determining binding rule ID', () => bindingRuleIDFromPartial(r.client, r.str('id')));
      const failed = missingOr(`Binding rule not found with ID ${JSON.stringify(id)}`, `Error reading binding rule ${JSON.stringify(id)}`);
      r.info(await r.or(failed, async () => formatBindingRule((await r.client.acl.bindingRuleRead(id)).data, r.format, r.meta)));
      return 0;
    });
  },
};
