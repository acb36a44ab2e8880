// `proconsul namespace create`: creates a namespace from flags (Consul Enterprise's
// command/namespace/create), printing it as the read command does.

import { namespaceCreate, type ACLLink, type Namespace } from '../api/namespaces.ts';
import { runWithClient } from './client-command.ts';
import type { FlagDef, ParsedFlags } from './flags.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { FORMAT_FLAG, INVALID_FORMAT, PARTITION_FLAG, formatNamespace, formatOf, partitionOption, showMetaFlag } from './namespace.ts';

/** The flags create and update share (Consul's namespace flag set). */
export const NAMESPACE_WRITE_FLAGS: FlagDef[] = [
  { name: 'name', kind: 'string', default: '', usage: "The namespace's name. This flag is required." },
  { name: 'description', kind: 'string', default: '', usage: 'A description of the namespace.' },
  { name: 'meta', kind: 'list', usage: 'Metadata to set on the namespace, formatted as key=value. This flag may be specified multiple times to set multiple meta fields' },
  { name: 'default-policy-id', kind: 'list', usage: 'ID of a policy from the default namespace to inject for all tokens in this namespace. May be specified multiple times.' },
  { name: 'default-policy-name', kind: 'list', usage: 'Name of a policy from the default namespace to inject for all tokens in this namespace. May be specified multiple times.' },
  { name: 'default-role-id', kind: 'list', usage: 'ID of a role from the default namespace to inject for all tokens in this namespace. May be specified multiple times.' },
  { name: 'default-role-name', kind: 'list', usage: 'Name of a role from the default namespace to inject for all tokens in this namespace. May be specified multiple times.' },
  FORMAT_FLAG,
  showMetaFlag('show-meta'),
  ...PARTITION_FLAG,
];

const list = (flags: ParsedFlags, name: string): string[] => (flags.values[name] as string[] | undefined) ?? [];

/** The -meta pairs; a pair without `=` is refused as Consul's flag parser does. */
export function metaFlags(flags: ParsedFlags): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const kv of list(flags, 'meta')) {
    const i = kv.indexOf('=');
    if (i < 0) throw new Error(`Invalid meta value "${kv}": must be key=value`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return Object.keys(out).length ? out : undefined;
}

/** The policy and role links the -default-* flags give. */
export function linkFlags(flags: ParsedFlags): { policies: ACLLink[]; roles: ACLLink[] } {
  return {
    policies: [...list(flags, 'default-policy-id').map((ID) => ({ ID })), ...list(flags, 'default-policy-name').map((Name) => ({ Name }))],
    roles: [...list(flags, 'default-role-id').map((ID) => ({ ID })), ...list(flags, 'default-role-name').map((Name) => ({ Name }))],
  };
}

/** The required -name and a known -format; undefined once the error is printed. */
export function checkWriteFlags(flags: ParsedFlags, io: CliIO): { name: string; format: string } | undefined {
  const name = String(flags.values.name);
  if (name === '') {
    ui(io).error('Missing the required -name flag');
    return undefined;
  }
  const format = formatOf(flags);
  if (!format) {
    ui(io).error(INVALID_FORMAT);
    return undefined;
  }
  return { name, format };
}

/** The `namespace create` command. */
export const namespaceCreateCommand: Command = {
  name: 'namespace create',
  synopsis: 'Create a Namespace',
  flags: [...NAMESPACE_WRITE_FLAGS, ...HTTP_FLAGS],
  help: `
Usage: proconsul namespace create -name <namespace name> [options]

  Request a namespace to be created. Construction of the namespace definition
  is handled by this command from the CLI arguments.

  Example:

    $ proconsul namespace create -name team1 -description "Team 1"
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const checked = checkWriteFlags(flags, io);
      if (!checked) return 1;
      const { policies, roles } = linkFlags(flags);
      const ns: Namespace = {
        Name: checked.name,
        ...(flags.values.description ? { Description: String(flags.values.description) } : {}),
        ...(policies.length || roles.length ? { ACLs: { PolicyDefaults: policies, RoleDefaults: roles } } : {}),
        ...(metaFlags(flags) ? { Meta: metaFlags(flags) } : {}),
      };
      const written = await namespaceCreate(client, ns, partitionOption(flags)).catch((err: Error) => {
        throw new Error(`Failed to create namespace ${checked.name}: ${err.message}`);
      });
      ui(io).info(formatNamespace(written, checked.format, !!flags.values['show-meta']));
      return 0;
    }, (err) => err.message);
  },
};
