// `proconsul acl binding-rule read`: one binding rule by -id (unique prefix).
import { ApiError } from '../api/index.ts';
import { formatBindingRule } from './acl-auth-format.ts';
import { ACL_HTTP_FLAGS, bindingRuleIDFromPartial, outputFlags, runAcl } from './acl-flags.ts';
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
      let id: string;
      try {
        id = await bindingRuleIDFromPartial(r.client, r.str('id'));
      } catch (err) {
        return r.fail(`Error determining binding rule ID: ${(err as Error).message}`);
      }
      try {
        r.info(formatBindingRule((await r.client.acl.bindingRuleRead(id)).data, r.format, r.meta));
        return 0;
      } catch (err) {
        if (err instanceof ApiError && err.statusCode === 404) return r.fail(`Binding rule not found with ID ${JSON.stringify(id)}`);
        return r.fail(`Error reading binding rule ${JSON.stringify(id)}: ${(err as Error).message}`);
      }
    });
  },
};
