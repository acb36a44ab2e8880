// `proconsul acl auth-method list`: every auth method (without Config), as Consul lists them.
import { formatAuthMethodList } from './acl-auth-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl auth-method list` command. */
export const aclAuthMethodListCommand: Command = {
  name: 'acl auth-method list',
  synopsis: 'Lists ACL auth methods',
  flags: [...outputFlags('auth method'), ...ACL_HTTP_FLAGS],
  help: `
Usage: proconsul acl auth-method list [options]

  List all auth methods:

    $ proconsul acl auth-method list
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      r.info(await r.or('Failed to retrieve the auth method list', async () => formatAuthMethodList((await r.client.acl.authMethodList()).data, r.format, r.meta)));
      return 0;
    });
  },
};
