// `proconsul acl role read`: one role by -id (unique prefix) or -name.
import { formatRole } from './acl-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, roleIDFromPartial, runAcl } from './acl-flags.ts';
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
    return runAcl(this.flags, args, io, async (r) => {
      const [id, name] = [r.str('id'), r.str('name')];
      if (id === '' && name === '') return r.fail('Must specify either the -id or -name parameters');
      const roleID = id !== '' ? await r.or('Error determining role ID', () => roleIDFromPartial(r.client, id)) : name;
      r.info(await r.or(`Error reading role ${JSON.stringify(roleID)}`, async () => {
        const role = id !== '' ? await r.client.acl.roleRead(roleID) : await r.client.acl.roleReadByName(name);
        return formatRole(role.data, r.format, r.meta);
      }));
      return 0;
    });
  },
};
