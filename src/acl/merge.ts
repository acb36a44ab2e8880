// Merging several policies into one (Consul's policy_merger.go): for the same resource and segment
// the disposition that takes precedence wins (deny > write > list > read); exact and prefix rules
// merge separately; a service's policy and intentions merge independently.
import { takesPrecedenceOver } from './access.ts';
import {
  emptyPolicy, emptyRules, SCALARS, SEGMENTED,
  type IntentionRule, type NamespaceRule, type PartitionRule, type Policy, type PolicyRules,
  type SegmentRule, type SegmentRules,
} from './rules.ts';

function mergeList(into: Map<string, IntentionRule>, rules: SegmentRule[], withIntentions: boolean): void {
  for (const rule of rules) {
    const existing = into.get(rule.name);
    if (!existing) {
      into.set(rule.name, { ...(rule as IntentionRule) });
      continue;
    }
    if (!withIntentions) {
      if (takesPrecedenceOver(rule.policy, existing.policy)) into.set(rule.name, { ...(rule as IntentionRule) });
      continue;
    }
    const intentions = (rule as IntentionRule).intentions ?? '';
    if (takesPrecedenceOver(rule.policy, existing.policy)) existing.policy = rule.policy;
    if (takesPrecedenceOver(intentions, existing.intentions ?? '')) existing.intentions = intentions;
  }
}

/** Merges the rule sets of one scope from several policies. */
export function mergeRules(sets: PolicyRules[]): PolicyRules {
  const merged = emptyRules();
  for (const key of SCALARS) {
    for (const set of sets) if (takesPrecedenceOver(set[key], merged[key])) merged[key] = set[key];
  }
  for (const resource of SEGMENTED) {
    const withIntentions = resource === 'service' || resource === 'identity';
    const exact = new Map<string, IntentionRule>();
    const prefix = new Map<string, IntentionRule>();
    for (const set of sets) {
      mergeList(exact, set[resource].exact, withIntentions);
      mergeList(prefix, set[resource].prefix, withIntentions);
    }
    const target = merged[resource] as SegmentRules<IntentionRule>;
    target.exact = [...exact.values()];
    target.prefix = [...prefix.values()];
  }
  return merged;
}

function groupByName<S extends NamespaceRule>(lists: S[][]): Map<string, S[]> {
  const groups = new Map<string, S[]>();
  for (const list of lists) {
    for (const scope of list) {
      const group = groups.get(scope.name) ?? [];
      group.push(scope);
      groups.set(scope.name, group);
    }
  }
  return groups;
}

function mergeScopePolicy(scopes: NamespaceRule[]): string {
  let policy = '';
  for (const s of scopes) if (takesPrecedenceOver(s.policy, policy)) policy = s.policy;
  return policy;
}

/** Merges namespace blocks with the same name and kind (exact or prefix). */
export function mergeNamespaces(sets: SegmentRules<NamespaceRule>[]): SegmentRules<NamespaceRule> {
  const one = (lists: NamespaceRule[][]): NamespaceRule[] =>
    [...groupByName(lists)].map(([name, group]) => ({
      name,
      policy: mergeScopePolicy(group),
      rules: mergeRules(group.map((g) => g.rules)),
    }));
  return { exact: one(sets.map((s) => s.exact)), prefix: one(sets.map((s) => s.prefix)) };
}

function mergePartitions(sets: SegmentRules<PartitionRule>[]): SegmentRules<PartitionRule> {
  const one = (lists: PartitionRule[][]): PartitionRule[] =>
    [...groupByName(lists)].map(([name, group]) => ({
      name,
      policy: mergeScopePolicy(group),
      rules: mergeRules(group.map((g) => g.rules)),
      namespaces: mergeNamespaces(group.map((g) => g.namespaces)),
    }));
  return { exact: one(sets.map((s) => s.exact)), prefix: one(sets.map((s) => s.prefix)) };
}

/** Merges policies into one (Consul's MergePolicies), including namespace and partition blocks. */
export function mergePolicies(policies: Policy[]): Policy {
  if (policies.length === 0) return emptyPolicy();
  return {
    ...mergeRules(policies),
    namespaces: mergeNamespaces(policies.map((p) => p.namespaces)),
    partitions: mergePartitions(policies.map((p) => p.partitions)),
  };
}
