// The ACL rule language's typed form: what a policy's Rules text (HCL v1 or JSON) parses into,
// with Consul Enterprise's namespace and partition blocks, and the parse entry point.
import { decodePolicy } from './rules-decode.ts';
import { readRulesText } from './rules-source.ts';
import { validatePolicy } from './rules-validate.ts';

/** A labelled rule: `key "app/" { policy = "read" }`; `name` is the segment (label). */
export interface SegmentRule {
  name: string;
  policy: string;
}

/** A service or identity rule, which also carries an intentions disposition. */
export interface IntentionRule extends SegmentRule {
  /** Empty when unset: the intentions disposition then follows `policy` (read/write → read). */
  intentions: string;
}

/** The exact-match and prefix rules of one segmented resource (`key` and `key_prefix`). */
export interface SegmentRules<R extends SegmentRule = SegmentRule> {
  exact: R[];
  prefix: R[];
}

/** Rules for every resource kind of one scope (the policy itself, a namespace or a partition). */
export interface PolicyRules {
  acl: string;
  keyring: string;
  operator: string;
  mesh: string;
  peering: string;
  agent: SegmentRules;
  event: SegmentRules;
  identity: SegmentRules<IntentionRule>;
  key: SegmentRules;
  node: SegmentRules;
  query: SegmentRules;
  service: SegmentRules<IntentionRule>;
  session: SegmentRules;
}

/** A `namespace "name" { … }` block: an optional management `policy` and the rules inside. */
export interface NamespaceRule {
  name: string;
  policy: string;
  rules: PolicyRules;
}

/** A `partition "name" { … }` block, which may hold namespace blocks of its own. */
export interface PartitionRule extends NamespaceRule {
  namespaces: SegmentRules<NamespaceRule>;
}

/** A parsed policy: top-level rules plus the Enterprise scoping blocks. */
export interface Policy extends PolicyRules {
  namespaces: SegmentRules<NamespaceRule>;
  partitions: SegmentRules<PartitionRule>;
}

/** The segmented resources in Consul's validation order, each with its HCL block name. */
export const SEGMENTED = ['agent', 'key', 'node', 'service', 'identity', 'session', 'event', 'query'] as const;

/** A segmented resource kind. */
export type SegmentedResource = (typeof SEGMENTED)[number];

/** The unlabelled resources (`acl = "write"`), in Consul's validation order. */
export const SCALARS = ['acl', 'keyring', 'operator', 'mesh', 'peering'] as const;

/** An unlabelled resource kind. */
export type ScalarResource = (typeof SCALARS)[number];

/** An empty rule set. */
export function emptyRules(): PolicyRules {
  const seg = <R extends SegmentRule>(): SegmentRules<R> => ({ exact: [], prefix: [] });
  return {
    acl: '', keyring: '', operator: '', mesh: '', peering: '',
    agent: seg(), event: seg(), identity: seg<IntentionRule>(), key: seg(), node: seg(),
    query: seg(), service: seg<IntentionRule>(), session: seg(),
  };
}

/** An empty policy. */
export function emptyPolicy(): Policy {
  return { ...emptyRules(), namespaces: { exact: [], prefix: [] }, partitions: { exact: [], prefix: [] } };
}

/**
 * Parses and validates a policy's Rules (HCL v1, or JSON when the text starts with `{`).
 * Throws RulesError with Consul's message (`Failed to parse ACL rules: …`, `Invalid key policy: …`)
 * and, where known, the line and column.
 */
export function parseRules(text: string): Policy {
  if (text === '') return emptyPolicy();
  const source = readRulesText(text);
  const decoded = decodePolicy(source);
  validatePolicy(decoded, source);
  return decoded.policy;
}
