// The authorizer for one scope's merged rules (Consul's policyAuthorizer): segment lookups where an
// exact rule beats the longest prefix, the *All/*Any walks, KeyWritePrefix and the fallbacks
// (mesh/peering → operator, intentions → service policy).
import { enforce, type AccessLevel, type AuthorizerContext, type Decision, type RequiredAccess } from './access.ts';
import type { Authorizer } from './authorizer.ts';
import type { IntentionRule, PolicyRules, SegmentRules } from './rules.ts';
import { RuleTree, type TreeLeaf } from './rule-tree.ts';

type Tree = RuleTree<AccessLevel>;

function treeOf(rules: SegmentRules): Tree {
  const tree: Tree = new RuleTree();
  for (const rule of rules.exact) tree.insert(rule.name, rule.policy as AccessLevel, false);
  for (const rule of rules.prefix) tree.insert(rule.name, rule.policy as AccessLevel, true);
  return tree;
}

// Without an explicit `intentions`, read or write on the service grants intentions read.
function intentionLevel(rule: IntentionRule): AccessLevel {
  if (rule.intentions) return rule.intentions as AccessLevel;
  return rule.policy === 'read' || rule.policy === 'write' ? 'read' : 'deny';
}

function intentionTree(rules: SegmentRules<IntentionRule>): Tree {
  const tree: Tree = new RuleTree();
  for (const rule of rules.exact) tree.insert(rule.name, intentionLevel(rule), false);
  for (const rule of rules.prefix) tree.insert(rule.name, intentionLevel(rule), true);
  return tree;
}

function scalar(level: string): AccessLevel | undefined {
  return level === '' ? undefined : (level as AccessLevel);
}

/** Allowed if any rule grants `required`; a denying catch-all `""` prefix makes the fallback deny. */
function anyAllowed(tree: Tree, required: RequiredAccess): Decision {
  let decision: Decision = 'default';
  const root = tree.leaf('');
  if (root) {
    decision = enforce(root.prefix, required);
    if (decision === 'allow') return 'allow';
  }
  tree.walk((_path, leaf) => {
    let d = enforce(leaf.prefix, required);
    if (d !== 'allow' && leaf.exact !== undefined) d = enforce(leaf.exact, required);
    if (d !== 'allow') return false;
    decision = 'allow';
    return true;
  });
  return decision;
}

function leafAllDecision(leaf: TreeLeaf<AccessLevel>, required: RequiredAccess): Decision {
  const prefixDecision = enforce(leaf.prefix, required);
  if (prefixDecision === 'deny' || leaf.exact === undefined) return prefixDecision;
  const exact = enforce(leaf.exact, required);
  return exact === 'default' ? prefixDecision : exact;
}

/** Allowed only if no rule denies `required` (and the `""` prefix rule, if any, allows it). */
function allAllowed(tree: Tree, required: RequiredAccess): Decision {
  let decision: Decision = 'default';
  const root = tree.leaf('');
  if (root) {
    decision = enforce(root.prefix, required);
    if (decision === 'deny') return 'deny';
  }
  tree.walk((_path, leaf) => {
    if (leafAllDecision(leaf, required) !== 'deny') return false;
    decision = 'deny';
    return true;
  });
  return decision;
}

/** Authorizes against one set of (already merged) rules. */
export class PolicyAuthorizer implements Authorizer {
  readonly #rules: PolicyRules;
  readonly #agent: Tree;
  readonly #event: Tree;
  readonly #identity: Tree;
  readonly #trafficPermissions: Tree;
  readonly #intention: Tree;
  readonly #key: Tree;
  readonly #node: Tree;
  readonly #query: Tree;
  readonly #service: Tree;
  readonly #session: Tree;

  constructor(rules: PolicyRules) {
    this.#rules = rules;
    this.#agent = treeOf(rules.agent);
    this.#event = treeOf(rules.event);
    this.#identity = treeOf(rules.identity);
    this.#trafficPermissions = intentionTree(rules.identity);
    this.#intention = intentionTree(rules.service);
    this.#key = treeOf(rules.key);
    this.#node = treeOf(rules.node);
    this.#query = treeOf(rules.query);
    this.#service = treeOf(rules.service);
    this.#session = treeOf(rules.session);
  }

  aclRead(): Decision { return enforce(scalar(this.#rules.acl), 'read'); }
  aclWrite(): Decision { return enforce(scalar(this.#rules.acl), 'write'); }
  agentRead(name: string): Decision { return enforce(this.#agent.get(name), 'read'); }
  agentWrite(name: string): Decision { return enforce(this.#agent.get(name), 'write'); }
  eventRead(name: string): Decision { return enforce(this.#event.get(name), 'read'); }
  eventWrite(name: string): Decision { return enforce(this.#event.get(name), 'write'); }
  identityRead(name: string): Decision { return enforce(this.#identity.get(name), 'read'); }
  identityReadAll(): Decision { return allAllowed(this.#identity, 'read'); }
  identityWrite(name: string): Decision { return enforce(this.#identity.get(name), 'write'); }
  identityWriteAny(): Decision { return anyAllowed(this.#identity, 'write'); }
  // Never decided by a rule: the agent's default intention policy answers.
  intentionDefaultAllow(): Decision { return 'default'; }
  intentionRead(name: string): Decision {
    return name === '*' ? anyAllowed(this.#intention, 'read') : enforce(this.#intention.get(name), 'read');
  }
  intentionWrite(name: string): Decision {
    return name === '*' ? allAllowed(this.#intention, 'write') : enforce(this.#intention.get(name), 'write');
  }
  keyList(name: string): Decision { return enforce(this.#key.get(name), 'list'); }
  keyRead(name: string): Decision { return enforce(this.#key.get(name), 'read'); }
  keyWrite(name: string): Decision { return enforce(this.#key.get(name), 'write'); }
  keyWritePrefix(prefix: string): Decision {
    // Allowed when the governing prefix rule grants write and no rule at or under the prefix
    // withholds write; default when no prefix rule applies and nothing beneath denies.
    let base = 'default' as Decision;
    this.#key.walkPath(prefix, (_path, leaf) => {
      if (leaf.prefix !== undefined) base = leaf.prefix === 'write' ? 'allow' : 'deny';
      return false;
    });
    if (base === 'deny') return 'deny';
    let beneath = 'default' as Decision;
    this.#key.walkPrefix(prefix, (_path, leaf) => {
      const withholds = (l: AccessLevel | undefined) => l !== undefined && l !== 'write';
      if (!withholds(leaf.prefix) && !withholds(leaf.exact)) return false;
      beneath = 'deny';
      return true;
    });
    return beneath === 'deny' ? 'deny' : base;
  }
  keyringRead(): Decision { return enforce(scalar(this.#rules.keyring), 'read'); }
  keyringWrite(): Decision { return enforce(scalar(this.#rules.keyring), 'write'); }
  meshRead(): Decision { return this.#rules.mesh ? enforce(scalar(this.#rules.mesh), 'read') : this.operatorRead(); }
  meshWrite(): Decision { return this.#rules.mesh ? enforce(scalar(this.#rules.mesh), 'write') : this.operatorWrite(); }
  // Namespace and partition management is decided by scope blocks (scoped-authorizer.ts).
  namespaceRead(): Decision { return 'default'; }
  namespaceWrite(): Decision { return 'default'; }
  nodeRead(name: string, ctx?: AuthorizerContext): Decision {
    // A node imported from a peer is visible to a local service identity or a reader of all nodes.
    if (ctx?.peer) return this.serviceWriteAny() === 'allow' ? 'allow' : this.nodeReadAll();
    return enforce(this.#node.get(name), 'read');
  }
  nodeReadAll(): Decision { return allAllowed(this.#node, 'read'); }
  nodeWrite(name: string): Decision { return enforce(this.#node.get(name), 'write'); }
  operatorRead(): Decision { return enforce(scalar(this.#rules.operator), 'read'); }
  operatorWrite(): Decision { return enforce(scalar(this.#rules.operator), 'write'); }
  partitionRead(): Decision { return 'default'; }
  partitionWrite(): Decision { return 'default'; }
  peeringRead(): Decision { return this.#rules.peering ? enforce(scalar(this.#rules.peering), 'read') : this.operatorRead(); }
  peeringWrite(): Decision { return this.#rules.peering ? enforce(scalar(this.#rules.peering), 'write') : this.operatorWrite(); }
  preparedQueryRead(name: string): Decision { return enforce(this.#query.get(name), 'read'); }
  preparedQueryWrite(name: string): Decision { return enforce(this.#query.get(name), 'write'); }
  serviceRead(name: string, ctx?: AuthorizerContext): Decision {
    if (ctx?.peer) return this.serviceWriteAny() === 'allow' ? 'allow' : this.serviceReadAll();
    return enforce(this.#service.get(name), 'read');
  }
  serviceReadAll(): Decision { return allAllowed(this.#service, 'read'); }
  serviceWrite(name: string): Decision { return enforce(this.#service.get(name), 'write'); }
  serviceWriteAny(): Decision { return anyAllowed(this.#service, 'write'); }
  sessionRead(name: string): Decision { return enforce(this.#session.get(name), 'read'); }
  sessionWrite(name: string): Decision { return enforce(this.#session.get(name), 'write'); }
  snapshot(): Decision { return enforce(scalar(this.#rules.acl), 'write'); }
  trafficPermissionsRead(name: string): Decision { return enforce(this.#trafficPermissions.get(name), 'read'); }
  trafficPermissionsWrite(name: string): Decision { return enforce(this.#trafficPermissions.get(name), 'write'); }
}
