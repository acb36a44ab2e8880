// `proconsul acl role create`: a role linking policies (by ID prefix or name) and service/node
// identities, printed as Consul's role formatter does.
import type { ACLLink } from '../acl/types.ts';
import { formatRole } from './acl-format.ts';
import {
  ACL_HTTP_FLAGS, listFlag, nodeIdentities, outputFlags, policyIDFromPartial, runAcl, serviceIdentities, type AclRun,
} from './acl-flags.ts';
import { asIs } from './client-command.ts';
import type { CliIO, Command } from './io.ts';

/** The flags that link a role to policies and identities (shared with `acl role update`). */
export const ROLE_LINK_FLAGS = [
  listFlag('policy-id', 'ID of a policy to use for this role. May be specified multiple times'),
  listFlag('policy-name', 'Name of a policy to use for this role. May be specified multiple times'),
  listFlag('service-identity', 'Name of a service identity to use for this role. May be specified multiple times. Format is the SERVICENAME or SERVICENAME:DATACENTER1,DATACENTER2,...'),
  listFlag('node-identity', 'Name of a node identity to use for this role. May be specified multiple times. Format is NODENAME:DATACENTER'),
];

/** Policy links from -policy-name and -policy-id (prefixes resolved); throws Consul's resolve error. */
export async function policyLinks(r: AclRun): Promise<ACLLink[]> {
  const out: ACLLink[] = r.list('policy-name').map((Name) => ({ Name }) as ACLLink);
  for (const partial of r.list('policy-id')) {
    try {
      out.push({ ID: await policyIDFromPartial(r.client, partial) });
    } catch (err) {
      throw new Error(`Error resolving policy ID ${partial}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** The `acl role create` command. */
export const aclRoleCreateCommand: Command = {
  name: 'acl role create',
  synopsis: 'Create an ACL role',
  flags: [
    { name: 'name', kind: 'string', usage: 'The new role\'s name. This flag is required.' },
    { name: 'description', kind: 'string', usage: 'A description of the role' },
    ...ROLE_LINK_FLAGS, ...outputFlags('role'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl role create -name NAME [options]

    Create a new role:

        $ proconsul acl role create -name "new-role" \\
                                    -description "This is an example role" \\
                                    -policy-id b52fc3de-5 \\
                                    -policy-name "acl-replication" \\
                                    -service-identity "web" \\
                                    -service-identity "db:east,west"
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.str('name') === '') return r.fail('Missing required \'-name\' flag');
      if (['policy-id', 'policy-name', 'service-identity', 'node-identity'].every((f) => r.list(f).length === 0)) {
        return r.fail('Cannot create a role without specifying -policy-name, -policy-id, -service-identity, or -node-identity at least once');
      }
      const role = await r.or(asIs, async () => ({
        Name: r.str('name'), Description: r.str('description'), Policies: await policyLinks(r),
        ServiceIdentities: serviceIdentities(r.list('service-identity')), NodeIdentities: nodeIdentities(r.list('node-identity')),
      }));
      r.info(await r.or('Failed to create new role', async () => formatRole((await r.client.acl.roleCreate(role)).data, r.format, r.meta)));
      return 0;
    });
  },
};
