// What the `acl` commands share (Consul's command/acl/acl_helpers.go): the -format and -meta
// flags, -service-identity / -node-identity parsing, unique-prefix ID resolution and the
// frame every command runs in (client-command.ts, with the -format check).

import { ACL_POLICY_GLOBAL_MANAGEMENT_ID, ANONYMOUS_TOKEN_ID } from '../acl/builtins.ts';
import type { ACLNodeIdentity, ACLServiceIdentity } from '../acl/types.ts';
import type { ConsulClient } from '../api/index.ts';
import { ACL_FORMATS } from './acl-format.ts';
import { failUi } from './catalog-flags.ts';
import { step, withClient, type FailureText } from './client-command.ts';
import type { FlagDef, ParsedFlags } from './flags.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO } from './io.ts';

/** `-meta` and `-format`, as every acl read/write command takes them. */
export function outputFlags(what: string): FlagDef[] {
  return [
    { name: 'meta', kind: 'bool', usage: `Indicates that ${what} metadata such as the content hash and raft indices should be shown for each entry` },
    { name: 'format', kind: 'string', default: 'pretty', usage: `Output format {${ACL_FORMATS.join('|')}}` },
  ];
}

/**
 * The HTTP flags the acl token, policy, role, auth-method and binding-rule commands (and login)
 * merge in: with -namespace and -partition, Consul's MultiTenancyFlags.
 */
export const ACL_HTTP_FLAGS = [...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS];

/** The parsed flags and the client of one acl command run. */
export interface AclRun {
  flags: ParsedFlags;
  client: ConsulClient;
  str(name: string): string;
  list(name: string): string[];
  format: string;
  meta: boolean;
  fail(msg: string): number;
  info(msg: string): void;
  /** Awaits `fn`; a failure ends the command with exit 1 and `<what>: <message>` (or `what(err)`) on stderr. */
  or<T>(what: FailureText, fn: () => Promise<T> | T): Promise<T>;
}

/** Parses flags, opens the client, runs `body` and closes the client; exit 1 on flag or connect errors. */
export async function runAcl(defs: FlagDef[], args: string[], io: CliIO, body: (r: AclRun) => Promise<number>): Promise<number> {
  const out = failUi(io);
  const flags = parseCommandFlags(defs, args, io);
  if (!flags) return 1;
  const format = String(flags.values.format ?? 'pretty');
  if (!(ACL_FORMATS as readonly string[]).includes(format)) return out.fail(`Unknown format: ${format}`);
  return withClient(flags, io, (client) => body({
    flags, client, format, meta: flags.values.meta === true, fail: out.fail, info: out.info, or: step,
    str: (name) => (flags.values[name] === undefined ? '' : String(flags.values[name])),
    list: (name) => (flags.values[name] as string[] | undefined) ?? [],
  }));
}

/** `SERVICENAME` or `SERVICENAME:DC1,DC2` values (Consul's ExtractServiceIdentities). */
export function serviceIdentities(raw: string[]): ACLServiceIdentity[] {
  return raw.map((v) => {
    const parts = v.split(':');
    if (parts.length === 1) return { ServiceName: parts[0] };
    if (parts.length === 2) return { ServiceName: parts[0], Datacenters: parts[1].split(',') };
    throw new Error(`Malformed -service-identity argument: ${JSON.stringify(v)}`);
  });
}

/** `NODENAME:DATACENTER` values (Consul's ExtractNodeIdentities). */
export function nodeIdentities(raw: string[]): ACLNodeIdentity[] {
  return raw.map((v) => {
    const parts = v.split(':');
    if (parts.length !== 2) throw new Error(`Malformed -node-identity argument: ${JSON.stringify(v)}`);
    return { NodeName: parts[0], Datacenter: parts[1] };
  });
}

// Consul's Get*IDFromPartial: a full UUID is taken as is, else exactly one ID must start with it.
function uniquePrefix(ids: string[], partial: string, what: string): string {
  if (partial.length === 36) return partial;
  const hits = ids.filter((id) => id.startsWith(partial));
  if (hits.length > 1) throw new Error(`Partial ${what} ID is not unique`);
  if (hits.length === 0) throw new Error(`No such ${what} ID with prefix: ${partial}`);
  return hits[0];
}

/** A token accessor from a unique prefix (`anonymous` names the anonymous token). */
export async function tokenAccessorFromPartial(client: ConsulClient, partial: string): Promise<string> {
  if (partial === 'anonymous') return ANONYMOUS_TOKEN_ID;
  if (partial.length === 36) return partial;
  return uniquePrefix((await client.acl.tokenList()).data.map((t) => t.AccessorID), partial, 'token');
}

/** A policy ID from a unique prefix (`global-management` names the built-in policy). */
export async function policyIDFromPartial(client: ConsulClient, partial: string): Promise<string> {
  if (partial === 'global-management') return ACL_POLICY_GLOBAL_MANAGEMENT_ID;
  if (partial.length === 36) return partial;
  return uniquePrefix((await client.acl.policyList()).data.map((p) => p.ID), partial, 'policy');
}

/** A role ID from a unique prefix. */
export async function roleIDFromPartial(client: ConsulClient, partial: string): Promise<string> {
  if (partial.length === 36) return partial;
  return uniquePrefix((await client.acl.roleList()).data.map((r) => r.ID), partial, 'role');
}

/** A binding rule ID from a unique prefix (Consul's GetBindingRuleIDFromPartial). */
export async function bindingRuleIDFromPartial(client: ConsulClient, partial: string): Promise<string> {
  if (partial.length === 36) return partial;
  return uniquePrefix((await client.acl.bindingRuleList()).data.map((r) => r.ID), partial, 'binding rule');
}

/** A policy's ID by exact name (Consul's GetPolicyIDByName). */
export async function policyIDByName(client: ConsulClient, name: string): Promise<string> {
  if (!name) throw new Error('No name specified');
  const hit = (await client.acl.policyList()).data.find((p) => p.Name === name);
  if (!hit) throw new Error(`No such policy with name ${name}`);
  return hit.ID;
}

/** A role's ID by exact name (Consul's GetRoleIDByName). */
export async function roleIDByName(client: ConsulClient, name: string): Promise<string> {
  if (!name) throw new Error('No name specified');
  const hit = (await client.acl.roleList()).data.find((r) => r.Name === name);
  if (!hit) throw new Error(`No such role with name ${name}`);
  return hit.ID;
}

/**
 * The ID of the policy or role named by -id (a unique prefix) or else by -name (exact); a miss
 * fails the command with `Error determining <kind> ID: …`.
 */
export function idFromFlags(r: AclRun, kind: 'policy' | 'role'): Promise<string> {
  const [id, name] = [r.str('id'), r.str('name')];
  const [fromPartial, byName] = kind === 'policy' ? [policyIDFromPartial, policyIDByName] : [roleIDFromPartial, roleIDByName];
  return r.or(`Error determining ${kind} ID`, () => (id !== '' ? fromPartial(r.client, id) : byName(r.client, name)));
}

/** How `acl policy read` / `acl role read` fetch one object by ID or by name and print it. */
export interface ReadByIdOrName<T> {
  byId(id: string): Promise<{ data: T }>;
  byName(name: string): Promise<{ data: T }>;
  format(v: T, format: string, meta: boolean): string;
}

/** Prints the policy or role named by -id (a unique prefix) or -name, with Consul's read errors. */
export async function readByIdOrName<T>(r: AclRun, kind: 'policy' | 'role', read: ReadByIdOrName<T>): Promise<number> {
  const [id, name] = [r.str('id'), r.str('name')];
  if (id === '' && name === '') return r.fail('Must specify either the -id or -name parameters');
  const fromPartial = kind === 'policy' ? policyIDFromPartial : roleIDFromPartial;
  const objectID = id !== '' ? await r.or(`Error determining ${kind} ID`, () => fromPartial(r.client, id)) : name;
  r.info(await r.or(`Error reading ${kind} ${JSON.stringify(objectID)}`, async () =>
    read.format((id !== '' ? await read.byId(objectID) : await read.byName(name)).data, r.format, r.meta)));
  return 0;
}

/** Deletes the policy or role named by -id (a unique prefix) or -name, with Consul's messages. */
export async function deleteByIdOrName(r: AclRun, kind: 'policy' | 'role', remove: (id: string) => Promise<unknown>): Promise<number> {
  if (r.str('id') === '' && r.str('name') === '') return r.fail('Must specify either the -id or -name parameters');
  const objectID = await idFromFlags(r, kind);
  await r.or(`Error deleting ${kind} ${JSON.stringify(objectID)}`, () => remove(objectID));
  r.info(`${kind === 'policy' ? 'Policy' : 'Role'} ${JSON.stringify(objectID)} deleted successfully`);
  return 0;
}

/** A repeatable list flag. */
export function listFlag(name: string, usage: string): FlagDef {
  return { name, kind: 'list', usage };
}
