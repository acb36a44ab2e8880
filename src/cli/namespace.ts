// `proconsul namespace`: the parent of the namespace subcommands (Consul Enterprise's
// command/namespace); on its own it prints its help (exit 1). Also what the subcommands share:
// -format, -partition, the pretty printers, the read and list bodies and the definition parser.

import { parseText } from '../agent/config/index.ts';
import type { ACLLink, Namespace } from '../api/namespaces.ts';
import type { FlagDef, ParsedFlags } from './flags.ts';
import type { ConsulClient } from '../api/index.ts';
import { withClient } from './client-command.ts';
import { loadDataSource } from './data-source.ts';
import { RUN_RESULT_HELP, parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { HTTP_FLAGS } from './http-flags.ts';

/** The -format values (pretty first, as Consul's namespace commands list them). */
export const NAMESPACE_FORMATS = ['pretty', 'json'];

/** -format. */
export const FORMAT_FLAG: FlagDef = {
  name: 'format', kind: 'string', default: 'pretty', usage: `How to output the results. The choices are: ${NAMESPACE_FORMATS.join(', ')}`,
};

/**
 * -partition (the API option of the namespace commands), unless the shared HTTP flags carry one
 * already (tenancy slice 8 adds it to every HTTP command).
 */
export const PARTITION_FLAG: FlagDef[] = HTTP_FLAGS.some((f) => f.name === 'partition') ? [] : [{
  name: 'partition', kind: 'string', default: '',
  usage: "Specifies the admin partition to query. If not provided, the admin partition will be inferred from the request's ACL token, or will default to the `default` admin partition. Admin Partitions are a Consul Enterprise feature.",
}];

/** A `-meta`-style flag that shows the raft indexes (`-meta` on read/list/write, `-show-meta` on create/update). */
export function showMetaFlag(name: string, what = 'namespace'): FlagDef {
  return { name, kind: 'bool', usage: `Indicates that ${what} metadata such as the raft indices should be shown for the ${what}` };
}

/** The checked -format value; undefined when it is not one Consul knows (the error is Consul's text). */
export function formatOf(flags: ParsedFlags): string | undefined {
  const f = String(flags.values.format);
  return NAMESPACE_FORMATS.includes(f) ? f : undefined;
}

/** Consul's text for an unknown -format. */
export const INVALID_FORMAT = `Invalid format, valid formats are {${NAMESPACE_FORMATS.join('|')}}`;

/** The call options the -partition flag gives. */
export function partitionOption(flags: ParsedFlags): { partition?: string } {
  const p = String(flags.values.partition ?? '');
  return p ? { partition: p } : {};
}

/**
 * The body of `namespace read` and `partition read`: exactly one name argument, a checked -format,
 * then the object printed (with raft indexes under -meta), or Consul's not-found text (exit 1).
 */
export async function readOneCommand<T>(
  io: CliIO, flags: ParsedFlags, what: 'namespace' | 'partition',
  read: (name: string) => Promise<T | null>, format: (v: T, format: string, showMeta: boolean) => string,
): Promise<number> {
  const out = ui(io);
  if (flags.args.length !== 1) {
    out.error(flags.args.length === 0 ? `Must specify the ${what} name` : `Too many arguments (expected 1, got ${flags.args.length})`);
    return 1;
  }
  const fmt = formatOf(flags);
  if (!fmt) {
    out.error(INVALID_FORMAT);
    return 1;
  }
  const name = flags.args[0];
  const v = await read(name).catch((err: Error) => {
    throw new Error(`Failed to read ${what} ${name}: ${err.message}`);
  });
  if (!v) {
    out.error(`${what === 'namespace' ? 'Namespace' : 'Partition'} not found: ${name}`);
    return 1;
  }
  out.info(format(v, fmt, !!flags.values.meta));
  return 0;
}

/** The body of `namespace list` and `partition list`: a checked -format, then the whole list printed. */
export async function listCommand<T>(
  io: CliIO, flags: ParsedFlags, what: 'namespaces' | 'partitions', showMeta: boolean,
  list: () => Promise<T[]>, format: (list: T[], format: string, showMeta: boolean) => string,
): Promise<number> {
  const fmt = formatOf(flags);
  if (!fmt) {
    ui(io).error(INVALID_FORMAT);
    return 1;
  }
  const all = await list().catch((err: Error) => {
    throw new Error(`Failed to list ${what}: ${err.message}`);
  });
  ui(io).info(format(all, fmt, showMeta));
  return 0;
}

/** The body of `namespace delete` and `partition delete`: exactly one name argument, deleted. */
export async function deleteOneCommand(
  io: CliIO, flags: ParsedFlags, what: 'namespace' | 'partition', del: (name: string) => Promise<unknown>,
): Promise<number> {
  if (flags.args.length !== 1) {
    ui(io).error(flags.args.length === 0 ? `Must specify the ${what} name` : `Too many arguments (expected 1, got ${flags.args.length})`);
    return 1;
  }
  const name = flags.args[0];
  await del(name).catch((err: Error) => {
    throw new Error(`Failed to delete ${what} ${name}: ${err.message}`);
  });
  return 0;
}

/**
 * The body of `namespace write` and `partition write`: exactly one definition argument (a file or
 * `-`), a checked -format, the decoded definition (which must name itself) written, and the answer
 * printed with raft indexes under the `showMeta` flag.
 */
export async function writeCommand<T extends { Name?: string }>(
  io: CliIO, flagDefs: FlagDef[], args: string[], what: 'namespace' | 'partition', showMeta: string,
  decode: (data: string) => T, write: (client: ConsulClient, v: T, flags: ParsedFlags) => Promise<T>,
  format: (v: T, format: string, showMeta: boolean) => string,
): Promise<number> {
  const out = ui(io);
  const flags = parseCommandFlags(flagDefs, args, io);
  if (!flags) return 1;
  if (flags.args.length !== 1) {
    out.error(flags.args.length === 0 ? `Must provide a ${what} definition` : `Too many arguments (expected 1, got ${flags.args.length})`);
    return 1;
  }
  const fmt = formatOf(flags);
  if (!fmt) {
    out.error(INVALID_FORMAT);
    return 1;
  }
  let v: T;
  try {
    v = decode(await loadDataSource(flags.args[0], io.stdin));
  } catch (err) {
    out.error(`Failed to decode ${what} definition: ${(err as Error).message}`);
    return 1;
  }
  if (!v.Name) {
    out.error(`${what === 'namespace' ? 'Namespace' : 'Partition'} definition is missing its Name`);
    return 1;
  }
  return withClient(flags, io, async (client) => {
    const written = await write(client, v, flags);
    out.info(format(written, fmt, !!flags.values[showMeta]));
    return 0;
  }, `Failed to write ${what} ${v.Name}`);
}

/**
 * JSON as the namespace and partition commands print it: three-space indents, as every -format=json
 * example of Consul's command docs shows (namespace create/read/list, partition create/write/read/list).
 */
export function prettyJson(v: unknown): string {
  return JSON.stringify(v, null, 3);
}

function links(title: string, list: ACLLink[] | undefined, indent: string): string {
  if (!list?.length) return '';
  return `${indent}${title}:\n${list.map((l) => `${indent}   ${l.ID ?? ''} / ${l.Name ?? ''}\n`).join('')}`;
}

/** One namespace as Consul's pretty formatter prints it (lines indented by `indent`). */
function namespaceBody(ns: Namespace, showMeta: boolean, indent: string): string {
  let s = `${indent}Description:\n${ns.Description ? `${indent}   ${ns.Description}\n` : ''}`;
  if (ns.ACLs && (ns.ACLs.PolicyDefaults?.length || ns.ACLs.RoleDefaults?.length)) {
    s += `${indent}ACLs:\n${links('Default Policies', ns.ACLs.PolicyDefaults, `${indent}   `)}${links('Default Roles', ns.ACLs.RoleDefaults, `${indent}   `)}`;
  }
  const meta = Object.keys(ns.Meta ?? {}).sort();
  if (meta.length) s += `${indent}Meta:\n${meta.map((k) => `${indent}   ${k}: ${ns.Meta![k]}\n`).join('')}`;
  if (ns.DeletedAt) s += `${indent}Deleted At: ${ns.DeletedAt}\n`;
  if (showMeta) s += `${indent}Create Index: ${ns.CreateIndex ?? 0}\n${indent}Modify Index: ${ns.ModifyIndex ?? 0}\n`;
  return s;
}

/** A namespace, pretty or JSON. */
export function formatNamespace(ns: Namespace, format: string, showMeta: boolean): string {
  if (format === 'json') return prettyJson(ns);
  return `Name: ${ns.Name}\n${namespaceBody(ns, showMeta, '')}`.replace(/\n$/, '');
}

/** A namespace list, pretty (each name a heading; a blank line after the list, as Consul's) or JSON. */
export function formatNamespaceList(list: Namespace[], format: string, showMeta: boolean): string {
  if (format === 'json') return prettyJson(list);
  return list.map((ns) => `${ns.Name}:\n${namespaceBody(ns, showMeta, '   ')}`).join('');
}

/** Keys written as HCL blocks (`Meta { … }`, `ACLs { … }`), which parse as one-element lists. */
const BLOCKS = new Set(['meta', 'acls']);

/** Parses a definition (JSON when it looks like JSON, else HCL); block keys become objects, keys stay as written. */
export function parseDefinition(data: string): Record<string, unknown> {
  const raw = parseText(data, data.trimStart().startsWith('{') ? 'json' : 'hcl') as Record<string, unknown>;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, BLOCKS.has(k.toLowerCase()) ? unblock(v) : v]));
}

/** A block's one-element list, as its object. */
function unblock(v: unknown): unknown {
  return Array.isArray(v) && v.length === 1 && v[0] && typeof v[0] === 'object' ? v[0] : v;
}

/** The field of `obj` named `name` in any case or snake_case spelling. */
export function field(obj: Record<string, unknown>, name: string): unknown {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase().replaceAll('_', '') === want) return v;
  return undefined;
}

/** A namespace definition (file or stdin) decoded into the API shape. */
export function namespaceFromDefinition(data: string): Namespace {
  const raw = parseDefinition(data);
  const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const linksOf = (v: unknown): ACLLink[] => (Array.isArray(v) ? v : []).map((l) => {
    const o = (l ?? {}) as Record<string, unknown>;
    return { ...(field(o, 'id') ? { ID: str(field(o, 'id')) } : {}), ...(field(o, 'name') ? { Name: str(field(o, 'name')) } : {}) };
  });
  const acls = field(raw, 'acls') as Record<string, unknown> | undefined;
  const meta = field(raw, 'meta') as Record<string, unknown> | undefined;
  return {
    Name: str(field(raw, 'name')),
    ...(field(raw, 'description') ? { Description: str(field(raw, 'description')) } : {}),
    ...(acls && typeof acls === 'object' ? { ACLs: { PolicyDefaults: linksOf(field(acls, 'policydefaults')), RoleDefaults: linksOf(field(acls, 'roledefaults')) } } : {}),
    ...(meta && typeof meta === 'object' ? { Meta: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, str(v)])) } : {}),
    ...(field(raw, 'partition') ? { Partition: str(field(raw, 'partition')) } : {}),
  };
}

/** The `namespace` command. */
export const namespaceCommand: Command = {
  name: 'namespace',
  synopsis: 'Interact with Namespaces',
  flags: [],
  help: `
Usage: proconsul namespace <subcommand> [options] [args]

  This command has subcommands for interacting with Consul Enterprise
  Namespaces. Here are some simple examples. More detailed
  examples are available in the subcommands or the documentation.

  Create a Namespace

    $ proconsul namespace create -name team1

  Create or Update a Namespace from its full definition:

    $ proconsul namespace write ns1.hcl

  Read a Namespace:

    $ proconsul namespace read ns1

  List all Namespaces:

    $ proconsul namespace list

  Update a Namespace

    $ proconsul namespace update -name team1 -description "first namespace"

  Delete a Namespace:

    $ proconsul namespace delete ns1

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
