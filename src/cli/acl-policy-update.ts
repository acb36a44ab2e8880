// `proconsul acl policy update`: changes a policy's name, description, rules or datacenters,
// keeping what is not given unless -no-merge.
import type { ACLPolicyInput } from '../api/index.ts';
import { formatPolicy } from './acl-format.ts';
import { ACL_HTTP_FLAGS, idFromFlags, listFlag, outputFlags, runAcl, type AclRun } from './acl-flags.ts';
import { loadDataSource } from './catalog-flags.ts';
import type { CliIO, Command } from './io.ts';

async function updated(r: AclRun, policyID: string, rules: string): Promise<ACLPolicyInput> {
  const dcs = r.list('valid-datacenter');
  if (r.flags.values['no-merge'] === true) {
    return { ID: policyID, Name: r.str('name'), Description: r.str('description'), Rules: rules, Datacenters: dcs };
  }
  const p = (await r.client.acl.policyRead(policyID)).data;
  return {
    ...p, ...(r.str('name') ? { Name: r.str('name') } : {}), ...(r.str('description') ? { Description: r.str('description') } : {}),
    ...(rules ? { Rules: rules } : {}), ...(dcs.length ? { Datacenters: dcs } : {}),
  };
}

/** The `acl policy update` command. */
export const aclPolicyUpdateCommand: Command = {
  name: 'acl policy update',
  synopsis: 'Update an ACL policy',
  flags: [
    { name: 'id', kind: 'string', usage: 'The ID of the policy to update. It may be specified as a unique ID prefix but will error if the prefix matches multiple policy IDs' },
    { name: 'name', kind: 'string', usage: 'The policy name.' },
    { name: 'description', kind: 'string', usage: 'A description of the policy' },
    listFlag('valid-datacenter', 'Datacenter that the policy should be valid within. This flag may be specified multiple times'),
    { name: 'rules', kind: 'string', usage: 'The policy rules. May be prefixed with \'@\' to indicate that the value is a file path to load the rules from. \'-\' may also be given to indicate that the rules are available on stdin' },
    { name: 'no-merge', kind: 'bool', usage: 'Do not merge the current policy information with what is provided to the command. Instead overwrite all fields with the exception of the policy ID which is immutable.' },
    ...outputFlags('policy'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl policy update [options]

    Updates a policy. By default it will merge the policy information with its
    current state so that you do not have to provide all parameters. This
    behavior can be disabled by passing -no-merge.

    Rename the policy:

        $ proconsul acl policy update -id abcd -name "better-name"

    Update all editable fields of the policy:

        $ proconsul acl policy update -id abcd \\
                                      -name "better-name" \\
                                      -rules @rules.hcl \\
                                      -description "Whole new description" \\
                                      -valid-datacenter "dc1"
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.str('id') === '' && r.str('name') === '') return r.fail('Cannot update a policy without specifying the -id or -name parameter');
      const policyID = await idFromFlags(r, 'policy');
      const rules = await r.or('Error loading rules', () => loadDataSource(r.str('rules'), io.stdin));
      r.info(await r.or(`Failed to update policy ${policyID}`, async () =>
        formatPolicy((await r.client.acl.policyUpdate(await updated(r, policyID, rules))).data, r.format, r.meta)));
      return 0;
    });
  },
};
