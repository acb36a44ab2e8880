// `proconsul acl role delete`: removes a role named by -id (unique prefix) or -name.
import { ACL_HTTP_FLAGS, deleteByIdOrName, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl role delete` command. */
export const aclRoleDeleteCommand: Command = {
  name: 'acl role delete',
  synopsis: 'Delete an ACL role',
  flags: [
    { name: 'id', kind: 'string', usage: 'The ID of the role to delete. It may be specified as a unique ID prefix but will error if the prefix matches multiple role IDs' },
    { name: 'name', kind: 'string', usage: 'The Name of the role to delete.' },
    ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl role delete [options] -id ROLE

    Deletes an ACL role by providing either the ID or a unique ID prefix.

        Delete by prefix:

          $ proconsul acl role delete -id b6b85

        Delete by full ID:

          $ proconsul acl role delete -id b6b856da-5193-4e78-845a-7d61ca8371ba
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, (r) => deleteByIdOrName(r, 'role', (id) => r.client.acl.roleDelete(id)));
  },
};
