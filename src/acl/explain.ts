// Explaining an ACL decision (beyond Consul): which of a token's policies decided a check and which
// rule in it matched. Each source is evaluated alone with its own authorizer; among the sources
// that decide, the most specific match wins (exact, then the longest prefix), then the strongest
// disposition (deny > write > list > read), exactly as merging the policies would decide.
import { takesPrecedenceOver, type Decision } from './access.ts';
import type { Authorizer } from './authorizer.ts';
import { enforceResource } from './enforce.ts';
import { newPolicyAuthorizer } from './scoped-authorizer.ts';
import { SCALARS, type Policy, type ScalarResource, type SegmentedResource, type SegmentRule } from './rules.ts';

/** Where a contributing policy came from (the token itself, a role, an identity, a template). */
export interface ExplainOrigin {
  Source: 'policy' | 'role' | 'service-identity' | 'node-identity' | 'templated-policy' | 'agent-recovery';
  Policy?: { ID: string; Name: string };
  Role?: { ID: string; Name: string };
  /** The identity or template, e.g. `service:web`, `node:n1`, `builtin/dns`. */
  Identity?: string;
}

/** One policy a token's authorizer is built from, with its origin. */
export interface ExplainSource {
  origin: ExplainOrigin;
  policy: Policy;
}

/** The rule that decided: its origin, how it matched, the rule's segment and disposition. */
export interface ExplainRule extends Omit<ExplainOrigin, 'Source'> {
  /** `default policy` and `management` decide without a rule. */
  Source: ExplainOrigin['Source'] | 'default policy' | 'management';
  Match: 'exact' | 'prefix' | 'default';
  /** The rule's segment (the prefix for prefix rules; '' for unlabelled resources). */
  Segment: string;
  /** The rule's disposition (read, list, write, deny). */
  Level?: string;
}

/** The answer of an explanation. */
export interface Explanation {
  Decision: 'allow' | 'deny';
  Rule: ExplainRule;
}

interface Match {
  kind: 'exact' | 'prefix';
  segment: string;
  level: string;
}

// Resources whose rules live under another block: intentions are service rules; mesh and
// peering fall back to operator when unset.
function ruleBlock(policy: Policy, resource: string): SegmentedResource | ScalarResource | null {
  if (resource === 'intention') return 'service';
  if ((resource === 'mesh' || resource === 'peering') && policy[resource] === '') return 'operator';
  if ((SCALARS as readonly string[]).includes(resource)) return resource as ScalarResource;
  return resource in policy ? (resource as SegmentedResource) : null;
}

/** The rule of `policy` governing `segment` of `resource`: its exact rule, else the longest prefix. */
export function governingRule(policy: Policy, resource: string, segment: string): Match | undefined {
  const block = ruleBlock(policy, resource);
  if (block === null) return undefined;
  const rules = policy[block];
  if (typeof rules === 'string') return rules === '' ? undefined : { kind: 'exact', segment: '', level: rules };
  const exact = rules.exact.find((r: SegmentRule) => r.name === segment);
  if (exact) return { kind: 'exact', segment, level: exact.policy };
  const prefixes = rules.prefix.filter((r: SegmentRule) => segment.startsWith(r.name));
  const longest = prefixes.reduce<SegmentRule | undefined>((best, r) => (!best || r.name.length > best.name.length ? r : best), undefined);
  return longest ? { kind: 'prefix', segment: longest.name, level: longest.policy } : undefined;
}

// Whether match `a` beats `b`: more specific first, then the stronger disposition.
function beats(a: Match, b: Match): boolean {
  if (a.kind !== b.kind) return a.kind === 'exact';
  if (a.segment.length !== b.segment.length) return a.segment.length > b.segment.length;
  return takesPrecedenceOver(a.level, b.level) && a.level !== b.level;
}

/** Explains `access` on `resource`/`segment` for a token built from `sources` over `fallback` (the default policy). */
export function explainSources(
  sources: ExplainSource[], fallback: Authorizer, resource: string, segment: string, access: string,
): Explanation {
  let best: { source: ExplainSource; match: Match; decision: Decision } | undefined;
  for (const source of sources) {
    const decision = enforceResource(newPolicyAuthorizer([source.policy]), resource, segment, access);
    if (decision === 'default') continue;
    const match = governingRule(source.policy, resource, segment) ?? { kind: 'exact', segment: '', level: '' };
    if (!best || beats(match, best.match)) best = { source, match, decision };
  }
  if (best) {
    const Level = best.match.level || undefined;
    return {
      Decision: best.decision === 'allow' ? 'allow' : 'deny',
      Rule: { ...best.source.origin, Match: best.match.kind, Segment: best.match.segment, Level },
    };
  }
  const decision = enforceResource(fallback, resource, segment, access);
  return { Decision: decision === 'allow' ? 'allow' : 'deny', Rule: { Source: 'default policy', Match: 'default', Segment: '' } };
}
