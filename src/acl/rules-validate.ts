// Validating decoded rules with Consul's messages (PolicyRules.Validate): which dispositions each
// resource accepts (`list` only for keys), reported as Go's %#v of the offending rule.
import { isPolicyValid, parseAccessLevel } from './access.ts';
import { RulesError } from './errors.ts';
import {
  SCALARS, SEGMENTED,
  type IntentionRule, type NamespaceRule, type Policy, type PolicyRules, type SegmentedResource, type SegmentRule,
} from './rules.ts';
import type { DecodedPolicy } from './rules-decode.ts';
import { locate, type PathStep, type RulesSource } from './rules-source.ts';

/** Go's %q: JSON quoting with Go's escapes for control characters. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, (_m, hex: string) => {
    const named: Record<string, string> = { '07': '\\a', '0b': '\\v' };
    return named[hex] ?? `\\x${hex}`;
  });
}

// Consul's rule struct names and the Go field holding the label, for %#v.
const GO_SHAPE: Record<SegmentedResource, { type: string; label: string; ent: boolean }> = {
  agent: { type: 'AgentRule', label: 'Node', ent: false },
  key: { type: 'KeyRule', label: 'Prefix', ent: true },
  node: { type: 'NodeRule', label: 'Name', ent: true },
  service: { type: 'ServiceRule', label: 'Name', ent: true },
  identity: { type: 'IdentityRule', label: 'Name', ent: true },
  session: { type: 'SessionRule', label: 'Node', ent: false },
  event: { type: 'EventRule', label: 'Event', ent: false },
  query: { type: 'PreparedQueryRule', label: 'Prefix', ent: false },
};

/** Formats a rule the way Go's %#v prints Consul's *acl.XRule. */
export function goRule(resource: SegmentedResource, rule: SegmentRule): string {
  const shape = GO_SHAPE[resource];
  const fields = [`${shape.label}:${goQuote(rule.name)}`, `Policy:${goQuote(rule.policy)}`];
  if ('intentions' in rule) fields.push(`Intentions:${goQuote((rule as IntentionRule).intentions)}`);
  if (shape.ent) fields.push('EnterpriseRule:acl.EnterpriseRule{}');
  return `&acl.${shape.type}{${fields.join(', ')}}`;
}

interface Ctx {
  source: RulesSource;
  paths: Map<object, PathStep[]>;
}

function fail(ctx: Ctx, message: string, path: PathStep[] | undefined): never {
  throw new RulesError(message, path ? locate(ctx.source, path) : undefined);
}

function validateSegment(ctx: Ctx, rules: PolicyRules, resource: SegmentedResource): void {
  const allowList = resource === 'key';
  for (const [suffix, list] of [['', rules[resource].exact], ['_prefix', rules[resource].prefix]] as const) {
    for (const rule of list as SegmentRule[]) {
      const kind = `${resource}${suffix}`;
      if (!isPolicyValid(rule.policy, allowList)) {
        fail(ctx, `Invalid ${kind} policy: ${goRule(resource, rule)}`, ctx.paths.get(rule));
      }
      const intentions = (rule as IntentionRule).intentions;
      if (intentions !== undefined && intentions !== '' && !isPolicyValid(intentions, false)) {
        fail(ctx, `Invalid ${kind} intentions policy: ${goRule(resource, rule)}`, ctx.paths.get(rule));
      }
    }
  }
}

function validateScalar(ctx: Ctx, rules: PolicyRules, key: (typeof SCALARS)[number]): void {
  // Scalars may be empty (no rule); anything else must be read, write or deny.
  if (rules[key] !== '' && !isPolicyValid(rules[key], false)) {
    const scope = ctx.paths.get(rules) ?? [];
    fail(ctx, `Invalid ${key} policy: ${goQuote(rules[key])}`, [...scope, { word: key, label: false }]);
  }
}

/** Validates one scope's rules in Consul's order: acl, the segmented kinds, then the scalars. */
function validateRules(ctx: Ctx, rules: PolicyRules): void {
  validateScalar(ctx, rules, 'acl');
  for (const resource of SEGMENTED) validateSegment(ctx, rules, resource);
  for (const key of SCALARS) if (key !== 'acl') validateScalar(ctx, rules, key);
}

function validateScope(ctx: Ctx, kind: string, scope: NamespaceRule): void {
  if (scope.policy !== '' && !isPolicyValid(scope.policy, false)) {
    fail(ctx, `Invalid ${kind} policy: ${goQuote(scope.policy)}`, ctx.paths.get(scope));
  }
  validateRules(ctx, scope.rules);
}

/** Lower-cases every disposition once validated, so merging compares canonical values. */
function canonicalize(rules: PolicyRules): void {
  for (const key of SCALARS) rules[key] = parseAccessLevel(rules[key]) ?? '';
  for (const resource of SEGMENTED) {
    for (const rule of [...rules[resource].exact, ...rules[resource].prefix] as IntentionRule[]) {
      rule.policy = parseAccessLevel(rule.policy) ?? rule.policy;
      if (rule.intentions) rule.intentions = parseAccessLevel(rule.intentions) ?? rule.intentions;
    }
  }
}

/** Validates a decoded policy, throwing RulesError with Consul's text and the rule's position. */
export function validatePolicy(decoded: DecodedPolicy, source: RulesSource): void {
  const ctx: Ctx = { source, paths: decoded.paths };
  const { policy } = decoded;
  validateRules(ctx, policy);
  canonicalize(policy);
  const scopes: Array<[string, NamespaceRule]> = [];
  for (const ns of policy.namespaces.exact) scopes.push(['namespace', ns]);
  for (const ns of policy.namespaces.prefix) scopes.push(['namespace_prefix', ns]);
  for (const [kind, list] of [['partition', policy.partitions.exact], ['partition_prefix', policy.partitions.prefix]] as const) {
    for (const part of list) {
      scopes.push([kind, part]);
      for (const ns of part.namespaces.exact) scopes.push(['namespace', ns]);
      for (const ns of part.namespaces.prefix) scopes.push(['namespace_prefix', ns]);
    }
  }
  for (const [kind, scope] of scopes) {
    validateScope(ctx, kind, scope);
    canonicalize(scope.rules);
    scope.policy = parseAccessLevel(scope.policy) ?? '';
  }
}

/**
 * Consul Enterprise's limits on a policy by the namespace and partition it lives in (its home):
 * namespace blocks only in the default namespace, partition blocks only in the default
 * partition, and rules in a non-default namespace may not grant operator, event, keyring or
 * query access, nor node write ("these permissions only an operator should have"). Throws
 * RulesError (400); texts are Proconsul's (Consul Enterprise's are not public).
 */
export function validatePolicyHome(policy: Policy, home: { partition: string; namespace: string }): void {
  const ns = home.namespace.toLowerCase();
  const ap = home.partition.toLowerCase();
  const hasBlocks = (r: { exact: unknown[]; prefix: unknown[] }) => r.exact.length > 0 || r.prefix.length > 0;
  if (ap !== 'default' && hasBlocks(policy.partitions)) {
    throw new RulesError('Invalid Policy: partition rules are only allowed in policies of the default partition');
  }
  if (ns === 'default') return;
  if (hasBlocks(policy.namespaces) || hasBlocks(policy.partitions)) {
    throw new RulesError('Invalid Policy: namespace and partition rules are only allowed in policies of the default namespace');
  }
  for (const key of ['operator', 'keyring'] as const) {
    if (policy[key] !== '') throw new RulesError(`Invalid Policy: ${key} rules are not allowed in a non-default namespace`);
  }
  for (const key of ['event', 'query'] as const) {
    if (hasBlocks(policy[key])) throw new RulesError(`Invalid Policy: ${key} rules are not allowed in a non-default namespace`);
  }
  for (const rule of [...policy.node.exact, ...policy.node.prefix]) {
    if (rule.policy === 'write') throw new RulesError('Invalid Policy: node rules granting write are not allowed in a non-default namespace');
  }
}
