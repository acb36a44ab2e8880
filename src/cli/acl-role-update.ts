// `proconsul acl role update`: changes a role's name, description, policies and identities,
// merging with its current state unless -no-merge.
import type { ACLRoleInput } from '../api/index.ts';
import { formatRole } from './acl-format.ts';
import { ACL_HTTP_FLAGS, nodeIdentities, outputFlags, roleIDFromPartial, runAcl, serviceIdentities, type AclRun } from './acl-flags.ts';
import { asIs } from './client-command.ts';
import { policyLinks, ROLE_LINK_FLAGS } from './acl-role-create.ts';
import type { CliIO, Command } from './io.ts';

function mergeBy<T>(current: T[] | undefined, extra: T[], key: (x: T) => string): T[] {
  const out = [...(current ?? [])];
  for (const x of extra) if (!out.some((y) => key(y) === key(x))) out.push(x);
  return out;
}

async function updated(r: AclRun, roleID: string): Promise<ACLRoleInput> {
  const links = await policyLinks(r);
  const svc = serviceIdentities(r.list('service-identity'));
  const nodes = nodeIdentities(r.list('node-identity'));
  if (r.flags.values['no-merge'] === true) {
    return { ID: roleID, Name: r.str('name'), Description: r.str('description'), Policies: links, ServiceIdentities: svc, NodeIdentities: nodes };
  }
  const role = (await r.client.acl.roleRead(roleID)).data;
  return {
    ...role, ...(r.str('name') ? { Name: r.str('name') } : {}), ...(r.str('description') ? { Description: r.str('description') } : {}),
    Policies: mergeBy(role.Policies, links, (l) => l.ID || l.Name || ''),
    ServiceIdentities: mergeBy(role.ServiceIdentities, svc, (s) => s.ServiceName),
    NodeIdentities: mergeBy(role.NodeIdentities, nodes, (n) => `${n.NodeName}:${n.Datacenter}`),
  };
}

/** The `acl role update` command. */
export const aclRoleUpdateCommand: Command = {
  name: 'acl role update',
  synopsis: 'Update an ACL role',
  flags: [
    { name: 'id', kind: 'string', usage: 'The ID of the role to update. It may be specified as a unique ID prefix but will error if the prefix matches multiple role IDs' },
    { name: 'name', kind: 'string', usage: 'The role name.' },
    { name: 'description', kind: 'string', usage: 'A description of the role' },
    ...ROLE_LINK_FLAGS,
    { name: 'no-merge', kind: 'bool', usage: 'Do not merge the current role information with what is provided to the command. Instead overwrite all fields with the exception of the role ID which is immutable.' },
    ...outputFlags('role'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl role update [options]

    Updates a role. By default it will merge the role information with its
    current state so that you do not have to provide all parameters. This
    behavior can be disabled by passing -no-merge.

    Rename the role:

        $ proconsul acl role update -id abcd -name "better-name"

    Update all editable fields of the role:

        $ proconsul acl role update -id abcd \\
                                    -name "better-name" \\
                                    -description "replication" \\
                                    -policy-name "token-replication" \\
                                    -service-identity "web"
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.str('id') === '') return r.fail('Cannot update a role without specifying the -id parameter');
      const roleID = await r.or('Error determining role ID', () => roleIDFromPartial(r.client, r.str('id')));
      const input = await r.or(asIs, () => updated(r, roleID));
      r.info(await r.or(`Failed to update role ${roleID}`, async () => formatRole((await r.client.acl.roleUpdate(input)).data, r.format, r.meta)));
      return 0;
    });
  },
};
