// `proconsul namespace update`: updates a namespace from flags (Consul Enterprise's
// command/namespace/update); ACL defaults and meta replace the stored ones unless -merge-acls /
// -merge-meta, and an empty -description keeps the stored one.

import { namespaceRead, namespaceUpdate, type ACLLink, type Namespace } from '../api/namespaces.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { formatNamespace, partitionOption } from './namespace.ts';
import { NAMESPACE_WRITE_FLAGS, checkWriteFlags, linkFlags, metaFlags } from './namespace-create.ts';

const same = (a: ACLLink, b: ACLLink) => (a.ID && a.ID === b.ID) || (!a.ID && !b.ID && a.Name === b.Name) || (!!a.Name && a.Name === b.Name);

/** The `namespace update` command. */
export const namespaceUpdateCommand: Command = {
  name: 'namespace update',
  synopsis: 'Update a Namespace',
  flags: [
    ...NAMESPACE_WRITE_FLAGS,
    { name: 'merge-acls', kind: 'bool', usage: 'Merge the new ACL policies and roles with the existing values.' },
    { name: 'merge-meta', kind: 'bool', usage: 'Merge new meta values with existing meta.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul namespace update -name <namespace name> [options]

  Request a namespace to be updated. Construction of the namespace definition
  is handled by this command from the CLI arguments. Some parts of the
  Namespace such as ACL configurations and meta can be merged with the
  existing namespace definition.

  Example:

    $ proconsul namespace update -name team1 -description "example description"
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const checked = checkWriteFlags(flags, io);
      if (!checked) return 1;
      const opts = partitionOption(flags);
      const cur = await namespaceRead(client, checked.name, opts).catch((err: Error) => {
        throw new Error(`Failed to read namespace ${checked.name}: ${err.message}`);
      });
      if (!cur) {
        ui(io).error(`Namespace not found: ${checked.name}`);
        return 1;
      }
      const { policies, roles } = linkFlags(flags);
      const merge = (old: ACLLink[] | undefined, add: ACLLink[]) => [...(old ?? []), ...add.filter((l) => !(old ?? []).some((o) => same(o, l)))];
      const acls = flags.values['merge-acls']
        ? { PolicyDefaults: merge(cur.ACLs?.PolicyDefaults, policies), RoleDefaults: merge(cur.ACLs?.RoleDefaults, roles) }
        : { PolicyDefaults: policies, RoleDefaults: roles };
      const meta = flags.values['merge-meta'] ? { ...(cur.Meta ?? {}), ...(metaFlags(flags) ?? {}) } : metaFlags(flags) ?? {};
      const description = String(flags.values.description) || cur.Description || '';
      const ns: Namespace = {
        Name: cur.Name,
        ...(description ? { Description: description } : {}),
        ...(acls.PolicyDefaults.length || acls.RoleDefaults.length ? { ACLs: acls } : {}),
        ...(Object.keys(meta).length ? { Meta: meta } : {}),
      };
      const written = await namespaceUpdate(client, ns, opts).catch((err: Error) => {
        throw new Error(`Failed to update namespace ${checked.name}: ${err.message}`);
      });
      ui(io).info(formatNamespace(written, checked.format, !!flags.values['show-meta']));
      return 0;
    }, (err) => err.message);
  },
};
