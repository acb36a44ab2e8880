// `proconsul acl binding-rule update`: changes a rule by -id (unique prefix), merged with its
// current state unless -no-merge; an explicitly given empty -selector clears the selector.
import type { ACLBindType, ACLBindingRule } from '../acl/types.ts';
import { ApiError, type ACLBindingRuleInput } from '../api/index.ts';
import { formatBindingRule } from './acl-auth-format.ts';
import { bindVars, RULE_FLAGS } from './acl-binding-rule-create.ts';
import { ACL_HTTP_FLAGS, bindingRuleIDFromPartial, outputFlags, runAcl, type AclRun } from './acl-flags.ts';
import { missingOr } from './client-command.ts';
import type { CliIO, Command } from './io.ts';

function updated(r: AclRun, id: string, current: ACLBindingRule): ACLBindingRuleInput {
  const vars = bindVars(r.list('bind-vars'));
  if (r.flags.values['no-merge'] === true) {
    if (r.str('bind-type') === '') throw new Error('Missing required \'-bind-type\' flag');
    if (r.str('bind-name') === '') throw new Error('Missing required \'-bind-name\' flag');
    return {
      ID: id, AuthMethod: current.AuthMethod, Description: r.str('description'), Selector: r.str('selector'),
      BindType: r.str('bind-type') as ACLBindType, BindName: r.str('bind-name'), ...(vars ? { BindVars: vars } : {}),
    };
  }
  const rule: ACLBindingRuleInput = { ...current };
  if (r.str('description') !== '') rule.Description = r.str('description');
  if (r.str('bind-type') !== '') rule.BindType = r.str('bind-type') as ACLBindType;
  if (r.str('bind-name') !== '') rule.BindName = r.str('bind-name');
  if (r.flags.values.selector !== undefined) rule.Selector = r.str('selector');
  if (vars) rule.BindVars = vars;
  return rule;
}

/** The `acl binding-rule update` command. */
export const aclBindingRuleUpdateCommand: Command = {
  name: 'acl binding-rule update',
  synopsis: 'Update an ACL binding rule',
  flags: [
    { name: 'id', kind: 'string', usage: 'The ID of the binding rule to update. It may be specified as a unique ID prefix but will error if the prefix matches multiple binding rule IDs' },
    ...RULE_FLAGS,
    { name: 'no-merge', kind: 'bool', usage: 'Do not merge the current binding rule information with what is provided to the command. Instead overwrite all fields with the exception of the binding rule ID and method which are immutable.' },
    ...outputFlags('binding rule'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl binding-rule update -id ID [options]

  Updates a binding rule. By default it will merge the binding rule
  information with its current state so that you do not have to provide all
  parameters. This behavior can be disabled by passing -no-merge.

  Update all editable fields of the binding rule:

    $ proconsul acl binding-rule update \\
          -id=43cb72df-9c6f-4315-ac8a-01a9d98155ef \\
          -description="new description" \\
          -bind-type=role \\
          -bind-name='k8s-\${serviceaccount.name}' \\
          -selector='serviceaccount.namespace==default and serviceaccount.name==web'
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.str('id') === '') return r.fail('Cannot update a binding rule without specifying the -id parameter');
      const id = await r.or('Error determining binding rule ID', () => bindingRuleIDFromPartial(r.client, r.str('id')));
      const notFound = `Binding rule not found with ID ${JSON.stringify(id)}`;
      const rule = await r.or((err) => (err instanceof ApiError ? missingOr(notFound, 'Error when retrieving current binding rule')(err) : err.message),
        async () => updated(r, id, (await r.client.acl.bindingRuleRead(id)).data));
      const out = (await r.or(`Error updating binding rule ${JSON.stringify(id)}`, () => r.client.acl.bindingRuleUpdate(rule))).data;
      r.info('Binding rule updated successfully');
      r.info(formatBindingRule(out, r.format, r.meta));
      return 0;
    });
  },
};
