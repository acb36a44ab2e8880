// `proconsul acl token create`: a token linking policies and roles (by ID prefix or name) and
// service/node identities, with -accessor/-secret, -local and -expires-ttl.
import type { ACLLink } from '../acl/types.ts';
import { formatGoDuration } from './flags.ts';
import { formatToken } from './acl-format.ts';
import {
  ACL_HTTP_FLAGS, listFlag, nodeIdentities, outputFlags, roleIDFromPartial, runAcl, serviceIdentities, type AclRun,
} from './acl-flags.ts';
import { asIs } from './client-command.ts';
import { policyLinks, ROLE_LINK_FLAGS } from './acl-role-create.ts';
import type { CliIO, Command } from './io.ts';

/** Role links from -role-name and -role-id (prefixes resolved); throws Consul's resolve error. */
export async function roleLinks(r: AclRun, ids = 'role-id', names = 'role-name'): Promise<ACLLink[]> {
  const out: ACLLink[] = r.list(names).map((Name) => ({ Name }) as ACLLink);
  for (const partial of r.list(ids)) {
    try {
      out.push({ ID: await roleIDFromPartial(r.client, partial) });
    } catch (err) {
      throw new Error(`Error resolving role ID ${partial}: ${(err as Error).message}`);
    }
  }
  return out;
}

const LINKS = ['policy-id', 'policy-name', 'role-id', 'role-name', 'service-identity', 'node-identity'];

/** The `acl token create` command. */
export const aclTokenCreateCommand: Command = {
  name: 'acl token create',
  synopsis: 'Create an ACL token',
  flags: [
    { name: 'accessor', kind: 'string', usage: 'Create the token with this Accessor ID. It must be a UUID. If not specified one will be auto-generated' },
    { name: 'secret', kind: 'string', usage: 'Create the token with this Secret ID. It must be a UUID. If not specified one will be auto-generated' },
    { name: 'local', kind: 'bool', usage: 'Create this as a datacenter local token' },
    { name: 'description', kind: 'string', usage: 'A description of the token' },
    ...ROLE_LINK_FLAGS,
    listFlag('role-id', 'ID of a role to use for this token. May be specified multiple times'),
    listFlag('role-name', 'Name of a role to use for this token. May be specified multiple times'),
    { name: 'expires-ttl', kind: 'duration', usage: 'Duration of time this token should be valid for' },
    ...outputFlags('token'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl token create [options]

  When creating a new token policies may be linked using either the -policy-id
  or the -policy-name options. When specifying policies by IDs you may use a
  unique prefix of the UUID as a shortcut for specifying the entire UUID.

  Create a new token:

          $ proconsul acl token create -description "Replication token" \\
                                       -policy-id b52fc3de-5 \\
                                       -policy-name "acl-replication" \\
                                       -role-id c630d4ef-6 \\
                                       -role-name "db-updater" \\
                                       -service-identity "web" \\
                                       -service-identity "db:east,west"
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (LINKS.every((f) => r.list(f).length === 0)) {
        return r.fail('Cannot create a token without specifying -policy-name, -policy-id, -role-name, -role-id, -service-identity, or -node-identity at least once');
      }
      const ttl = Number(r.flags.values['expires-ttl'] ?? 0);
      const token = await r.or(asIs, async () => ({
        Description: r.str('description'), Local: r.flags.values.local === true, AccessorID: r.str('accessor'), SecretID: r.str('secret'),
        ServiceIdentities: serviceIdentities(r.list('service-identity')), NodeIdentities: nodeIdentities(r.list('node-identity')),
        Policies: await policyLinks(r), Roles: await roleLinks(r), ...(ttl > 0 ? { ExpirationTTL: formatGoDuration(ttl) } : {}),
      }));
      r.info(await r.or('Failed to create new token', async () => formatToken((await r.client.acl.tokenCreate(token)).data, r.format, r.meta)));
      return 0;
    });
  },
};
