// Namespaces and admin partitions in the open: resolves a check to the rule scopes that govern the
// resource's partition and namespace, most specific first, and asks each until one decides.
import { enforce, type AccessLevel, type AuthorizerContext, type Decision } from './access.ts';
import { authorizerFrom, callMethod, type Authorizer, type AuthorizerMethod } from './authorizer.ts';
import { mergePolicies } from './merge.ts';
import { PolicyAuthorizer } from './policy-authorizer.ts';
import { RuleTree } from './rule-tree.ts';
import type { NamespaceRule, PartitionRule, Policy, SegmentRules } from './rules.ts';

/** The partition and namespace a policy (or token) belongs to; both default to `default`. */
export interface HomeScope {
  partition?: string;
  namespace?: string;
}

/** Methods whose resources live in a namespace; the rest are partition-wide (nodes, agents, …). */
const NAMESPACED: ReadonlySet<AuthorizerMethod> = new Set<AuthorizerMethod>([
  'aclRead', 'aclWrite', 'identityRead', 'identityReadAll', 'identityWrite', 'identityWriteAny',
  'intentionRead', 'intentionWrite', 'keyList', 'keyRead', 'keyWrite', 'keyWritePrefix',
  'serviceRead', 'serviceReadAll', 'serviceWrite', 'serviceWriteAny', 'sessionRead', 'sessionWrite',
  'trafficPermissionsRead', 'trafficPermissionsWrite',
]);

interface Scope {
  policy: string;
  authz: PolicyAuthorizer;
}

interface PartitionScope extends Scope {
  namespaces: RuleTree<Scope>;
}

function namespaceTree(rules: SegmentRules<NamespaceRule>): RuleTree<Scope> {
  const tree = new RuleTree<Scope>();
  const add = (ns: NamespaceRule, prefix: boolean) => tree.insert(ns.name, { policy: ns.policy, authz: new PolicyAuthorizer(ns.rules) }, prefix);
  for (const ns of rules.exact) add(ns, false);
  for (const ns of rules.prefix) add(ns, true);
  return tree;
}

function partitionTree(rules: SegmentRules<PartitionRule>): RuleTree<PartitionScope> {
  const tree = new RuleTree<PartitionScope>();
  const add = (p: PartitionRule, prefix: boolean) =>
    tree.insert(p.name, { policy: p.policy, authz: new PolicyAuthorizer(p.rules), namespaces: namespaceTree(p.namespaces) }, prefix);
  for (const p of rules.exact) add(p, false);
  for (const p of rules.prefix) add(p, true);
  return tree;
}

/** The compiled form of a merged policy: top-level rules plus namespace and partition scopes. */
class ScopedRules {
  readonly top: PolicyAuthorizer;
  readonly namespaces: RuleTree<Scope>;
  readonly partitions: RuleTree<PartitionScope>;
  readonly home: Required<HomeScope>;

  constructor(policy: Policy, home: HomeScope) {
    this.top = new PolicyAuthorizer(policy);
    this.namespaces = namespaceTree(policy.namespaces);
    this.partitions = partitionTree(policy.partitions);
    this.home = { partition: home.partition || 'default', namespace: home.namespace || 'default' };
  }

  /** The resource's partition and namespace, defaulting to the home scope. */
  where(ctx?: AuthorizerContext): { partition: string; namespace: string } {
    const partition = ctx?.partition || this.home.partition;
    const fallbackNs = partition === this.home.partition ? this.home.namespace : 'default';
    return { partition, namespace: ctx?.namespace || fallbackNs };
  }

  /** The authorizers that may decide, most specific first. */
  layers(partition: string, namespace: string, namespaced: boolean): PolicyAuthorizer[] {
    const out: PolicyAuthorizer[] = [];
    const part = this.partitions.get(partition);
    if (part) {
      const ns = part.namespaces.get(namespace);
      if (ns) out.push(ns.authz);
      if (!namespaced || namespace === 'default') out.push(part.authz);
    }
    if (partition === this.home.partition) {
      const ns = this.namespaces.get(namespace);
      if (ns) out.push(ns.authz);
      if (!namespaced || namespace === this.home.namespace) out.push(this.top);
    }
    return out;
  }

  /** A namespace block's management policy, else operator rules of the partition (then the top). */
  namespaceDecision(name: string, partition: string, write: boolean): Decision {
    const need = write ? 'write' : 'read';
    const part = this.partitions.get(partition);
    const candidates = [part?.namespaces.get(name), partition === this.home.partition ? this.namespaces.get(name) : undefined];
    for (const scope of candidates) if (scope?.policy) return enforce(scope.policy as AccessLevel, need);
    return this.#operatorFallback(partition, write);
  }

  /** A partition block's management policy, else the operator rules. */
  partitionDecision(name: string, write: boolean): Decision {
    const part = this.partitions.get(name);
    if (part?.policy) return enforce(part.policy as AccessLevel, write ? 'write' : 'read');
    return this.#operatorFallback(this.home.partition, write);
  }

  #operatorFallback(partition: string, write: boolean): Decision {
    for (const authz of this.layers(partition, 'default', false)) {
      const d = write ? authz.operatorWrite() : authz.operatorRead();
      if (d !== 'default') return d;
    }
    return 'default';
  }
}

function decide(scoped: ScopedRules, method: AuthorizerMethod, name: string, ctx?: AuthorizerContext): Decision {
  const { partition, namespace } = scoped.where(ctx);
  if (method === 'namespaceRead' || method === 'namespaceWrite') {
    return scoped.namespaceDecision(name, partition, method === 'namespaceWrite');
  }
  if (method === 'partitionRead' || method === 'partitionWrite') {
    return scoped.partitionDecision(name, method === 'partitionWrite');
  }
  for (const authz of scoped.layers(partition, namespace, NAMESPACED.has(method))) {
    const d = callMethod(authz, method, name, ctx);
    if (d !== 'default') return d;
  }
  return 'default';
}

/**
 * Builds an Authorizer from one or more parsed policies (merged as Consul's MergePolicies does).
 * Rules outside namespace/partition blocks apply to the `home` scope (default/default).
 */
export function newPolicyAuthorizer(policies: Policy[], home: HomeScope = {}): Authorizer {
  const scoped = new ScopedRules(mergePolicies(policies), home);
  return authorizerFrom((method, name, ctx) => decide(scoped, method, name, ctx));
}
