// `proconsul acl binding-rule create`: a rule mapping verified identity attributes (selector)
// to a service, node, role, policy or templated policy on login tokens of one auth method.
import type { ACLBindType, ACLTemplatedPolicyVariables } from '../acl/types.ts';
import { formatBindingRule } from './acl-auth-format.ts';
import { ACL_HTTP_FLAGS, listFlag, outputFlags, runAcl } from './acl-flags.ts';
import { asIs } from './client-command.ts';
import type { FlagDef } from './flags.ts';
import type { CliIO, Command } from './io.ts';

/** The flags that describe a rule's grant (shared with `acl binding-rule update`). */
export const RULE_FLAGS: FlagDef[] = [
  { name: 'description', kind: 'string', usage: 'A description of the binding rule.' },
  { name: 'selector', kind: 'string', usage: 'Selector is an expression that matches against verified identity attributes returned from the auth method during login.' },
  { name: 'bind-type', kind: 'string', usage: 'Type of binding to perform ("service", "node", "role", "policy" or "templated-policy").' },
  { name: 'bind-name', kind: 'string', usage: 'Name to bind on match. Can use ${var} interpolation. This flag is required.' },
  listFlag('bind-vars', 'Templated policy variables, as name=value. Can use ${var} interpolation. Only with -bind-type=templated-policy.'),
];

/** `-bind-vars name=value` flags as the rule's BindVars (only `name` exists today). */
export function bindVars(raw: string[]): ACLTemplatedPolicyVariables | undefined {
  if (raw.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const kv of raw) {
    const eq = kv.indexOf('=');
    if (eq < 0) throw new Error(`Malformed -bind-vars argument: ${JSON.stringify(kv)}`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out as ACLTemplatedPolicyVariables;
}

/** The `acl binding-rule create` command. */
export const aclBindingRuleCreateCommand: Command = {
  name: 'acl binding-rule create',
  synopsis: 'Create an ACL binding rule',
  flags: [
    { name: 'method', kind: 'string', usage: 'The auth method\'s name for which this binding rule applies. This flag is required.' },
    ...RULE_FLAGS.map((f) => (f.name === 'bind-type' ? { ...f, default: 'service' } : f)),
    ...outputFlags('binding rule'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl binding-rule create [options]

  Create a new binding rule:

    $ proconsul acl binding-rule create \\
          -method=minikube \\
          -bind-type=service \\
          -bind-name='k8s-\${serviceaccount.name}' \\
          -selector='serviceaccount.namespace==default and serviceaccount.name==web'

  Give everyone in an OIDC group a role:

    $ proconsul acl binding-rule create -method=sso -bind-type=role \\
          -bind-name=admins -selector='"admins" in list.groups'
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.str('method') === '') return r.fail('Missing required \'-method\' flag');
      if (r.str('bind-type') === '') return r.fail('Missing required \'-bind-type\' flag');
      if (r.str('bind-name') === '') return r.fail('Missing required \'-bind-name\' flag');
      const vars = await r.or(asIs, () => bindVars(r.list('bind-vars')));
      const rule = {
        AuthMethod: r.str('method'), Description: r.str('description'), Selector: r.str('selector'),
        BindType: r.str('bind-type') as ACLBindType, BindName: r.str('bind-name'), ...(vars ? { BindVars: vars } : {}),
      };
      r.info(await r.or('Failed to create new binding rule', async () => formatBindingRule((await r.client.acl.bindingRuleCreate(rule)).data, r.format, r.meta)));
      return 0;
    });
  },
};
