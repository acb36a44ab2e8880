// `proconsul acl auth-method read`: one auth method by -name, with its Config.
import { formatAuthMethod } from './acl-auth-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, runAcl } from './acl-flags.ts';
import { missingOr } from './client-command.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl auth-method read` command. */
export const aclAuthMethodReadCommand: Command = {
  name: 'acl auth-method read',
  synopsis: 'Read an ACL auth method',
  flags: [
    { name: 'name', kind: 'string', usage: 'The name of the auth method to read.' },
    ...outputFlags('auth method'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl auth-method read -name NAME [options]

  Read an auth method:

    $ proconsul acl auth-method read -name my-auth-method
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      const name = r.str('name');
      if (name === '') return r.fail('Missing required \'-name\' flag');
      const failed = missingOr(`Auth method not found with name ${JSON.stringify(name)}`, `Error reading auth method ${JSON.stringify(name)}`);
      r.info(await r.or(failed, async () => formatAuthMethod((await r.client.acl.authMethodRead(name)).data, r.format, r.meta)));
      return 0;
    });
  },
};
