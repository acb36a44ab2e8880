// `proconsul acl policy create`: a policy from -name, -description, -valid-datacenter and -rules
// (literal, @file or - for stdin), printed as Consul's policy formatter does.
import { formatPolicy } from './acl-format.ts';
import { ACL_HTTP_FLAGS, listFlag, outputFlags, runAcl } from './acl-flags.ts';
import { loadDataSource } from './catalog-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl policy create` command. */
export const aclPolicyCreateCommand: Command = {
  name: 'acl policy create',
  synopsis: 'Create an ACL policy',
  flags: [
    { name: 'name', kind: 'string', usage: 'The new policy\'s name. This flag is required.' },
    { name: 'description', kind: 'string', usage: 'A description of the policy' },
    listFlag('valid-datacenter', 'Datacenter that the policy should be valid within. This flag may be specified multiple times'),
    { name: 'rules', kind: 'string', usage: 'The policy rules. May be prefixed with \'@\' to indicate that the value is a file path to load the rules from. \'-\' may also be given to indicate that the rules are available on stdin' },
    ...outputFlags('policy'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl policy create -name NAME [options]

    Both the -rules and -from-token option values allow loading the value
    from stdin, a file or the raw value. To use stdin pass '-' as the value.
    To load the value from a file prefix the value with an '@'. Any other
    values will be used directly.

    Create a new policy:

        $ proconsul acl policy create -name "new-policy" \\
                                      -description "This is an example policy" \\
                                      -valid-datacenter "dc1" \\
                                      -valid-datacenter "dc2" \\
                                      -rules @rules.hcl
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      const name = r.str('name');
      if (name === '') return r.fail('Missing require \'-name\' flag');
      const rules = await r.or('Error loading rules', () => loadDataSource(r.str('rules'), io.stdin));
      r.info(await r.or('Failed to create new policy', async () => {
        const dcs = r.list('valid-datacenter');
        const p = (await r.client.acl.policyCreate({ Name: name, Description: r.str('description'), Rules: rules, ...(dcs.length ? { Datacenters: dcs } : {}) })).data;
        return formatPolicy(p, r.format, r.meta);
      }));
      return 0;
    });
  },
};
