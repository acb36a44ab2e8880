// `proconsul acl policy read`: one policy by -id (unique prefix) or -name.
import { formatPolicy } from './acl-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, readByIdOrName, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl policy read` command. */
export const aclPolicyReadCommand: Command = {
  name: 'acl policy read',
  synopsis: 'Read an ACL policy',
  flags: [
    { name: 'id', kind: 'string', usage: 'The ID of the policy to read. It may be specified as a unique ID prefix but will error if the prefix matches multiple policy IDs' },
    { name: 'name', kind: 'string', usage: 'The name of the policy to read.' },
    ...outputFlags('policy'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl policy read [options] POLICY

    This command will retrieve and print out the details
    of a single policy.

    Read:

        $ proconsul acl policy read -id fdabbcb5-9de5-4b1a-961f-77214ae88cba

    Read by name:

        $ proconsul acl policy read -name my-policy
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, (r) => readByIdOrName(r, 'policy', {
      byId: (id) => r.client.acl.policyRead(id), byName: (name) => r.client.acl.policyReadByName(name), format: formatPolicy,
    }));
  },
};
