// loadConfig: the agent's configuration pipeline in Consul's merge order — defaults, -dev
// defaults, list flags, config files and directories in command-line order, the other flags,
// -hcl fragments, then the non-user values — followed by build and validation.
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { buildRuntime } from './build.ts';
import { defaultTree, devTree, nonUserTree } from './defaults.ts';
import { readAgentFlags, type AgentFlagValues } from './flags.ts';
import { unimplementedWarnings } from './implemented.ts';
import { mergeConfig, type ConfigTree } from './merge.ts';
import { resolveNodeId } from './node-id.ts';
import { decodeTree, parseSource, type ParsedSource } from './parse.ts';
import type { RuntimeConfig } from './runtime.ts';
import { sourcesFromPath } from './sources.ts';
import type { Interfaces } from './addresses.ts';

/** Options for loadConfig. */
export interface LoadOptions {
  /** `agent` command-line flags. */
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  hostname?: string;
  /** Host interfaces for advertise detection and sockaddr templates (default: os.networkInterfaces()). */
  interfaces?: Interfaces;
  /** When true nothing is written (no `<data_dir>/node-id`); `validate` uses this. */
  readOnly?: boolean;
}

/** The loaded configuration and every warning Consul would print. */
export interface LoadResult {
  config: RuntimeConfig;
  warnings: string[];
}

async function userSources(flags: AgentFlagValues, cwd: string, warnings: string[]): Promise<ParsedSource[]> {
  const out: ParsedSource[] = [];
  const push = (p: ParsedSource | null) => p && out.push(p);
  push(Object.keys(flags.slices).length ? decodeTree('flags.slices', flags.slices) : null);
  for (const path of flags.configPaths) {
    for (const src of await sourcesFromPath(path, cwd, flags.configFormat, warnings)) push(parseSource(src));
  }
  push(Object.keys(flags.values).length ? decodeTree('flags.values', flags.values) : null);
  flags.hcl.forEach((data, i) => push(parseSource({ name: `flags-${i}.hcl`, format: 'hcl', data })));
  return out;
}

/** Loads, merges, builds and validates the agent configuration. */
export async function loadConfig(opts: LoadOptions): Promise<LoadResult> {
  const flags = readAgentFlags(opts.args);
  const warnings = [...flags.warnings];
  const parsed = await userSources(flags, opts.cwd ?? process.cwd(), warnings);
  let tree: ConfigTree = defaultTree();
  if (flags.dev) tree = mergeConfig(tree, devTree());
  for (const p of parsed) {
    tree = mergeConfig(tree, p.tree);
    warnings.push(...p.warnings);
  }
  tree = mergeConfig(tree, nonUserTree(flags.dev));
  warnings.push(...unimplementedWarnings(parsed.map((p) => p.tree)));
  const ctx = { dev: flags.dev, hostname: opts.hostname ?? osHostname(), interfaces: opts.interfaces ?? networkInterfaces() };
  const { built, warnings: buildWarnings } = buildRuntime(tree, parsed.flatMap((p) => p.valueErrors), ctx);
  warnings.push(...buildWarnings);
  const { nodeIdConfigured, ...rest } = built;
  const nodeId = await resolveNodeId(nodeIdConfigured, built.dev ? null : built.dataDir, !opts.readOnly);
  const sources = parsed.map((p) => p.name).filter((n) => !n.startsWith('flags'));
  const configPaths = flags.configPaths.map((p) => resolve(opts.cwd ?? process.cwd(), p));
  return { config: { ...rest, nodeId, sources, configPaths }, warnings };
}
