// `proconsul acl token update`: changes a token's description, policies, roles and identities;
// the plain flags replace what the token has, the -append-* variants add to it.
import type { ACLTokenInput } from '../api/index.ts';
import { formatToken } from './acl-format.ts';
import {
  ACL_HTTP_FLAGS, listFlag, nodeIdentities, outputFlags, policyIDFromPartial, runAcl, serviceIdentities,
  tokenAccessorFromPartial, type AclRun,
} from './acl-flags.ts';
import { asIs } from './client-command.ts';
import { roleLinks } from './acl-token-create.ts';
import type { CliIO, Command } from './io.ts';

const PAIRS: [string[], string[], string][] = [
  [['policy-id', 'policy-name'], ['append-policy-id', 'append-policy-name'], 'Cannot combine the use of policy-id/policy-name flags with append- variants. To set or overwrite existing policies, use -policy-id or -policy-name. To append to existing policies, use -append-policy-id or -append-policy-name.'],
  [['role-id', 'role-name'], ['append-role-id', 'append-role-name'], 'Cannot combine the use of role-id/role-name flags with append- variants. To set or overwrite existing roles, use -role-id or -role-name. To append to existing roles, use -append-role-id or -append-role-name.'],
  [['service-identity'], ['append-service-identity'], 'Cannot combine the use of service-identity flag with append-service-identity. To set or overwrite existing service identities, use -service-identity. To append to existing service identities, use -append-service-identity.'],
  [['node-identity'], ['append-node-identity'], 'Cannot combine the use of node-identity flag with append-node-identity. To set or overwrite existing node identities, use -node-identity. To append to existing node identities, use -append-node-identity.'],
];

const given = (r: AclRun, names: string[]) => names.some((n) => r.list(n).length > 0);

async function policyLinksFrom(r: AclRun, ids: string, names: string) {
  const out = r.list(names).map((Name) => ({ ID: '', Name }));
  for (const p of r.list(ids)) {
    try {
      out.push({ ID: await policyIDFromPartial(r.client, p), Name: '' });
    } catch (err) {
      throw new Error(`Error resolving policy ID ${p}: ${(err as Error).message}`);
    }
  }
  return out.map((l) => (l.ID ? { ID: l.ID } : { ID: '', Name: l.Name }));
}

async function updated(r: AclRun, t: ACLTokenInput): Promise<ACLTokenInput> {
  const out: ACLTokenInput = { ...t, ...(r.str('description') ? { Description: r.str('description') } : {}) };
  if (given(r, PAIRS[0][0])) out.Policies = await policyLinksFrom(r, 'policy-id', 'policy-name');
  else if (given(r, PAIRS[0][1])) out.Policies = [...(t.Policies ?? []), ...await policyLinksFrom(r, 'append-policy-id', 'append-policy-name')];
  if (given(r, PAIRS[1][0])) out.Roles = await roleLinks(r);
  else if (given(r, PAIRS[1][1])) out.Roles = [...(t.Roles ?? []), ...await roleLinks(r, 'append-role-id', 'append-role-name')];
  if (given(r, PAIRS[2][1])) {
    const add = serviceIdentities(r.list('append-service-identity'));
    out.ServiceIdentities = [...(t.ServiceIdentities ?? []).filter((s) => !add.some((a) => a.ServiceName === s.ServiceName)), ...add];
  } else out.ServiceIdentities = serviceIdentities(r.list('service-identity'));
  if (given(r, PAIRS[3][1])) {
    const add = nodeIdentities(r.list('append-node-identity'));
    out.NodeIdentities = [...(t.NodeIdentities ?? []), ...add.filter((a) => !(t.NodeIdentities ?? []).some((n) => n.NodeName === a.NodeName && n.Datacenter === a.Datacenter))];
  } else out.NodeIdentities = nodeIdentities(r.list('node-identity'));
  return out;
}

/** The `acl token update` command. */
export const aclTokenUpdateCommand: Command = {
  name: 'acl token update',
  synopsis: 'Update an ACL token',
  flags: [
    { name: 'accessor-id', kind: 'string', usage: 'The Accessor ID of the token to update. It may be specified as a unique ID prefix but will error if the prefix matches multiple token Accessor IDs' },
    { name: 'id', kind: 'string', usage: 'DEPRECATED. Use -accessor-id instead.' },
    { name: 'description', kind: 'string', usage: 'A description of the token' },
    ...['policy-id', 'policy-name', 'role-id', 'role-name'].flatMap((f) => {
      const [kind, by] = f.split('-');
      return [
        listFlag(f, `${by === 'id' ? 'ID' : 'Name'} of a ${kind} to use for this token. Overwrites existing ${kind === 'policy' ? 'policies' : 'roles'}. May be specified multiple times`),
        listFlag(`append-${f}`, `${by === 'id' ? 'ID' : 'Name'} of a ${kind} to add to this token. The token retains existing ${kind === 'policy' ? 'policies' : 'roles'}. May be specified multiple times`),
      ];
    }),
    listFlag('service-identity', 'Name of a service identity to use for this token. May be specified multiple times. Format is the SERVICENAME or SERVICENAME:DATACENTER1,DATACENTER2,...'),
    listFlag('append-service-identity', 'Name of a service identity to use for this token. This token retains existing service identities. May be specified multiple times. Format is the SERVICENAME or SERVICENAME:DATACENTER1,DATACENTER2,...'),
    listFlag('node-identity', 'Name of a node identity to use for this token. May be specified multiple times. Format is NODENAME:DATACENTER'),
    listFlag('append-node-identity', 'Name of a node identity to use for this token. This token retains existing node identities. May be specified multiple times. Format is NODENAME:DATACENTER'),
    ...outputFlags('token'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl token update [options]

    This command will update a token. Some parts such as marking the token local
    cannot be changed.

    Update all editable fields of the token:

        $ proconsul acl token update -accessor-id abcd \\
                                     -description "replication" \\
                                     -policy-name "token-replication" \\
                                     -role-name "db-updater"
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      const partial = r.str('accessor-id') || r.str('id');
      if (partial === '') return r.fail('Cannot update a token without specifying the -accessor-id parameter');
      const accessor = await r.or('Error determining token ID', () => tokenAccessorFromPartial(r.client, partial));
      const current: ACLTokenInput = (await r.or('Error when retrieving current token', () => r.client.acl.tokenRead(accessor))).data;
      const clash = PAIRS.find(([set, add]) => given(r, set) && given(r, add));
      if (clash) return r.fail(clash[2]);
      const input = await r.or(asIs, () => updated(r, current));
      r.info(await r.or(`Failed to update token ${accessor}`, async () => formatToken((await r.client.acl.tokenUpdate(input)).data, r.format, r.meta)));
      return 0;
    });
  },
};
