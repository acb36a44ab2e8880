// `proconsul acl policy list`: every policy, as Consul's policy list formatter prints them.
import { formatPolicyList } from './acl-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl policy list` command. */
export const aclPolicyListCommand: Command = {
  name: 'acl policy list',
  synopsis: 'Lists ACL policies',
  flags: [...outputFlags('policy'), ...ACL_HTTP_FLAGS],
  help: `
Usage: proconsul acl policy list [options]

  Lists all the ACL policies.

          $ proconsul acl policy list
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      r.info(await r.or('Failed to retrieve the policy list', async () => formatPolicyList((await r.client.acl.policyList()).data, r.format, r.meta)));
      return 0;
    });
  },
};
