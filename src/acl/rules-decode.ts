// Decoding a parsed rules tree into the typed Policy the way hashicorp/hcl's decoder fills Consul's
// structs: keys match case-insensitively, unknown keys are ignored, numbers become strings.
import { RulesError } from './errors.ts';
import {
  emptyPolicy, emptyRules, SCALARS, SEGMENTED,
  type IntentionRule, type NamespaceRule, type PartitionRule, type Policy, type PolicyRules,
  type SegmentRule, type SegmentRules,
} from './rules.ts';
import { locate, type PathStep, type RulesSource } from './rules-source.ts';

/** A decoded policy plus where each rule and scope was written (for error positions). */
export interface DecodedPolicy {
  policy: Policy;
  paths: Map<object, PathStep[]>;
}

interface Ctx {
  source: RulesSource;
  paths: Map<object, PathStep[]>;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return '*ast.ListType';
  if (isObj(v)) return '*ast.ObjectType';
  return '*ast.LiteralType';
}

function fail(ctx: Ctx, path: PathStep[], message: string): never {
  const pos = locate(ctx.source, path);
  const at = pos ? `At ${pos.line}:${pos.column}: ` : '';
  throw new RulesError(`Failed to parse ACL rules: ${at}${message}`, pos);
}

function dotted(path: PathStep[]): string {
  return path.map((s) => s.word).join('.');
}

/** Reads a string attribute like hcl's decodeString: strings as-is, numbers as their text. */
function str(ctx: Ctx, v: unknown, path: PathStep[]): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return fail(ctx, path, `${dotted(path)}: unknown type for string ${typeName(v)}`);
}

/** Looks a key up case-insensitively (hcl's ObjectList.Filter uses EqualFold). */
function pick(obj: Obj, key: string): unknown {
  if (key in obj) return obj[key];
  for (const k of Object.keys(obj)) if (k.toLowerCase() === key) return obj[k];
  return undefined;
}

/** Flattens HCL's `[{label: [body]}]` and JSON's `{label: body}` forms into (label, body) pairs. */
function labelled(ctx: Ctx, value: unknown, path: PathStep[]): Array<[string, Obj]> {
  const out: Array<[string, Obj]> = [];
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) {
    if (!isObj(item)) fail(ctx, path, `${dotted(path)}: unknown type for struct ${typeName(item)}`);
    for (const [label, body] of Object.entries(item)) {
      for (const b of Array.isArray(body) ? body : [body]) {
        if (!isObj(b)) fail(ctx, [...path, { word: label, label: true }], `${dotted(path)}.${label}: unknown type for struct ${typeName(b)}`);
        out.push([label, b]);
      }
    }
  }
  return out;
}

function decodeSegment(ctx: Ctx, obj: Obj, block: string, scope: PathStep[], into: SegmentRules<IntentionRule>): void {
  for (const [key, list] of [[block, into.exact], [`${block}_prefix`, into.prefix]] as const) {
    const value = pick(obj, key);
    if (value === undefined) continue;
    const path = [...scope, { word: key, label: false }];
    for (const [name, body] of labelled(ctx, value, path)) {
      const at = [...path, { word: name, label: true }];
      const rule: SegmentRule | IntentionRule = { name, policy: str(ctx, pick(body, 'policy'), [...at, { word: 'policy', label: false }]) };
      if (block === 'service' || block === 'identity') {
        (rule as IntentionRule).intentions = str(ctx, pick(body, 'intentions'), [...at, { word: 'intentions', label: false }]);
      }
      ctx.paths.set(rule, path.concat({ word: name, label: true }));
      list.push(rule as IntentionRule);
    }
  }
}

/** Decodes the resource rules of one scope (top level, namespace or partition body). */
function decodeRules(ctx: Ctx, obj: Obj, scope: PathStep[]): PolicyRules {
  const rules = emptyRules();
  ctx.paths.set(rules, scope);
  for (const key of SCALARS) {
    rules[key] = str(ctx, pick(obj, key), [...scope, { word: key, label: false }]);
  }
  for (const block of SEGMENTED) {
    decodeSegment(ctx, obj, block, scope, rules[block] as SegmentRules<IntentionRule>);
  }
  return rules;
}

function decodeNamespaces(ctx: Ctx, obj: Obj, scope: PathStep[]): SegmentRules<NamespaceRule> {
  const out: SegmentRules<NamespaceRule> = { exact: [], prefix: [] };
  for (const [key, list] of [['namespace', out.exact], ['namespace_prefix', out.prefix]] as const) {
    const value = pick(obj, key);
    if (value === undefined) continue;
    const path = [...scope, { word: key, label: false }];
    for (const [name, body] of labelled(ctx, value, path)) {
      const at = [...path, { word: name, label: true }];
      const ns: NamespaceRule = { name, policy: str(ctx, pick(body, 'policy'), [...at, { word: 'policy', label: false }]), rules: decodeRules(ctx, body, at) };
      ctx.paths.set(ns, at);
      list.push(ns);
    }
  }
  return out;
}

function decodePartitions(ctx: Ctx, obj: Obj): SegmentRules<PartitionRule> {
  const out: SegmentRules<PartitionRule> = { exact: [], prefix: [] };
  for (const [key, list] of [['partition', out.exact], ['partition_prefix', out.prefix]] as const) {
    const value = pick(obj, key);
    if (value === undefined) continue;
    const path = [{ word: key, label: false }];
    for (const [name, body] of labelled(ctx, value, path)) {
      const at = [...path, { word: name, label: true }];
      const policy = str(ctx, pick(body, 'policy'), [...at, { word: 'policy', label: false }]);
      const part: PartitionRule = { name, policy, rules: decodeRules(ctx, body, at), namespaces: decodeNamespaces(ctx, body, at) };
      ctx.paths.set(part, at);
      list.push(part);
    }
  }
  return out;
}

/** Decodes a parsed rules tree into a Policy (not yet validated). */
export function decodePolicy(source: RulesSource): DecodedPolicy {
  const ctx: Ctx = { source, paths: new Map() };
  const top = decodeRules(ctx, source.tree, []);
  const policy: Policy = {
    ...emptyPolicy(),
    ...top,
    namespaces: decodeNamespaces(ctx, source.tree, []),
    partitions: decodePartitions(ctx, source.tree),
  };
  ctx.paths.set(policy, []);
  return { policy, paths: ctx.paths };
}
