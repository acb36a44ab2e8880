// `proconsul acl role list`: every role, as Consul's role list formatter prints them.
import { formatRoleList } from './acl-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl role list` command. */
export const aclRoleListCommand: Command = {
  name: 'acl role list',
  synopsis: 'Lists ACL roles',
  flags: [...outputFlags('role'), ...ACL_HTTP_FLAGS],
  help: `
Usage: proconsul acl role list [options]

  Lists all the ACL roles.

          $ proconsul acl role list
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      r.info(await r.or('Failed to retrieve the role list', async () => formatRoleList((await r.client.acl.roleList()).data, r.format, r.meta)));
      return 0;
    });
  },
};
