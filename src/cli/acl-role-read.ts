// `proconsul acl role read`: one role by -id (unique prefix) or -name.
import { formatRole } from './acl-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, readByIdOrName, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl role read` command. */
export const aclRoleReadCommand: Command = {
  name: 'acl role read',
  synopsis: 'Read an ACL role',
  flags: [
    { name: 'id', kind: 'string', usage: 'The ID of the role to read. It may be specified as a unique ID prefix but will error if the prefix matches multiple role IDs' },
    { name: 'name', kind: 'string', usage: 'The name of the role to read.' },
    ...outputFlags('role'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl role read [options] ROLE

    This command will retrieve and print out the details
    of a single role.

    Read:

        $ proconsul acl role read -id fdabbcb5-9de5-4b1a-961f-77214ae88cba

    Read by name:

        $ proconsul acl role read -name my-policy
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, (r) => readByIdOrName(r, 'role', {
      byId: (id) => r.client.acl.roleRead(id), byName: (name) => r.client.acl.roleReadByName(name), format: formatRole,
    }));
  },
};
