// `proconsul acl binding-rule list`: every binding rule, or those of one -method.
import { formatBindingRuleList } from './acl-auth-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl binding-rule list` command. */
export const aclBindingRuleListCommand: Command = {
  name: 'acl binding-rule list',
  synopsis: 'Lists ACL binding rules',
  flags: [
    { name: 'method', kind: 'string', usage: 'Only show rules linked to the auth method with the given name.' },
    ...outputFlags('binding rule'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl binding-rule list [options]

  Lists all the ACL binding rules.

  Show all:

    $ proconsul acl binding-rule list

  Show all for a specific auth method:

    $ proconsul acl binding-rule list -method="my-method"
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      r.info(await r.or('Failed to retrieve the binding rule list', async () => formatBindingRuleList((await r.client.acl.bindingRuleList(r.str('method'))).data, r.format, r.meta)));
      return 0;
    });
  },
};
