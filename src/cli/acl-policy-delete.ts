// `proconsul acl policy delete`: removes a policy named by -id (unique prefix) or -name.
import { ACL_HTTP_FLAGS, deleteByIdOrName, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl policy delete` command. */
export const aclPolicyDeleteCommand: Command = {
  name: 'acl policy delete',
  synopsis: 'Delete an ACL policy',
  flags: [
    { name: 'id', kind: 'string', usage: 'The ID of the policy to delete. It may be specified as a unique ID prefix but will error if the prefix matches multiple policy IDs' },
    { name: 'name', kind: 'string', usage: 'The Name of the policy to delete.' },
    ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl policy delete [options] -id POLICY

    Deletes an ACL policy by providing either the ID or a unique ID prefix.

        Delete by prefix:

          $ proconsul acl policy delete -id b6b85

        Delete by full ID:

          $ proconsul acl policy delete -id b6b856da-5193-4e78-845a-7d61ca8371ba
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, (r) => deleteByIdOrName(r, 'policy', (id) => r.client.acl.policyDelete(id)));
  },
};
