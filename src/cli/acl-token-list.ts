// `proconsul acl token list`: every token, as Consul's token list formatter prints them.
import { formatTokenList } from './acl-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl token list` command. */
export const aclTokenListCommand: Command = {
  name: 'acl token list',
  synopsis: 'List ACL tokens',
  flags: [...outputFlags('token'), ...ACL_HTTP_FLAGS],
  help: `
Usage: proconsul acl token list [options]

  List all the ACL tokens

          $ proconsul acl token list
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      r.info(await r.or('Failed to retrieve the token list', async () => formatTokenList((await r.client.acl.tokenList()).data, r.format, r.meta)));
      return 0;
    });
  },
};
