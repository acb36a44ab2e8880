// `proconsul acl auth-method delete`: removes an auth method by -name (its binding rules and the
// tokens it issued go with it).
import { ACL_HTTP_FLAGS, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl auth-method delete` command. */
export const aclAuthMethodDeleteCommand: Command = {
  name: 'acl auth-method delete',
  synopsis: 'Delete an ACL auth method',
  flags: [
    { name: 'name', kind: 'string', usage: 'The name of the auth method to delete.' },
    ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl auth-method delete -name NAME [options]

  Delete an auth method:

    $ proconsul acl auth-method delete -name "my-auth-method"
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      const name = r.str('name');
      if (name === '') return r.fail('Missing required \'-name\' flag');
      await r.or(`Error deleting auth method ${JSON.stringify(name)}`, () => r.client.acl.authMethodDelete(name));
      r.info(`Auth method ${JSON.stringify(name)} deleted successfully`);
      return 0;
    });
  },
};
