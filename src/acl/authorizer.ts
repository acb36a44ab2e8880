// The Authorizer contract (Consul's acl.Authorizer): one method per permission, each answering
// allow, deny or default (no rule applied). Implementations: policy.ts, static.ts, chained.ts.
import type { AuthorizerContext, Decision } from './access.ts';

/** Permission checks; `name` is the segment checked, `ctx` the namespace/partition/peer it lives in. */
export interface Authorizer {
  /** Reading ACL tokens, policies and roles. */
  aclRead(ctx?: AuthorizerContext): Decision;
  /** Managing ACLs. */
  aclWrite(ctx?: AuthorizerContext): Decision;
  /** Agent read endpoints on node `name`. */
  agentRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Agent write endpoints on node `name`. */
  agentWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Listing user event `name`. */
  eventRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Firing user event `name`. */
  eventWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Reading workload identity `name`. */
  identityRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Reading every workload identity. */
  identityReadAll(ctx?: AuthorizerContext): Decision;
  /** Writing workload identity `name`. */
  identityWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Writing some workload identity. */
  identityWriteAny(ctx?: AuthorizerContext): Decision;
  /** The default answer when no intention matches a connection. */
  intentionDefaultAllow(ctx?: AuthorizerContext): Decision;
  /** Reading intentions whose destination is `name` (`*`: any). */
  intentionRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Writing intentions whose destination is `name` (`*`: all). */
  intentionWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Listing keys under `name` (`keys`, `recurse`). */
  keyList(name: string, ctx?: AuthorizerContext): Decision;
  /** Reading key `name`. */
  keyRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Writing key `name`. */
  keyWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Writing every key under prefix `name` (no rule beneath denies it). */
  keyWritePrefix(name: string, ctx?: AuthorizerContext): Decision;
  /** Reading the gossip keyring. */
  keyringRead(ctx?: AuthorizerContext): Decision;
  /** Changing the gossip keyring. */
  keyringWrite(ctx?: AuthorizerContext): Decision;
  /** Reading mesh configuration (falls back to operator). */
  meshRead(ctx?: AuthorizerContext): Decision;
  /** Changing mesh configuration (falls back to operator). */
  meshWrite(ctx?: AuthorizerContext): Decision;
  /** Reading namespace `name` (Enterprise in the open). */
  namespaceRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Managing namespace `name` (Enterprise in the open). */
  namespaceWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Discovering node `name`. */
  nodeRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Discovering every node. */
  nodeReadAll(ctx?: AuthorizerContext): Decision;
  /** Registering node `name`. */
  nodeWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Operator read endpoints. */
  operatorRead(ctx?: AuthorizerContext): Decision;
  /** Operator write endpoints. */
  operatorWrite(ctx?: AuthorizerContext): Decision;
  /** Reading admin partition `name` (Enterprise in the open). */
  partitionRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Managing admin partition `name` (Enterprise in the open). */
  partitionWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Reading peerings (falls back to operator). */
  peeringRead(ctx?: AuthorizerContext): Decision;
  /** Changing peerings (falls back to operator). */
  peeringWrite(ctx?: AuthorizerContext): Decision;
  /** Reading prepared query `name` (not executing it). */
  preparedQueryRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Creating, changing or deleting prepared query `name`. */
  preparedQueryWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Discovering service `name`. */
  serviceRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Discovering every service. */
  serviceReadAll(ctx?: AuthorizerContext): Decision;
  /** Registering service `name`. */
  serviceWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Registering some service. */
  serviceWriteAny(ctx?: AuthorizerContext): Decision;
  /** Reading sessions on node `name`. */
  sessionRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Creating sessions on node `name`. */
  sessionWrite(name: string, ctx?: AuthorizerContext): Decision;
  /** Saving and restoring snapshots (needs acl write). */
  snapshot(ctx?: AuthorizerContext): Decision;
  /** Reading traffic permissions whose destination is identity `name`. */
  trafficPermissionsRead(name: string, ctx?: AuthorizerContext): Decision;
  /** Writing traffic permissions whose destination is identity `name`. */
  trafficPermissionsWrite(name: string, ctx?: AuthorizerContext): Decision;
}

/** An Authorizer method name. */
export type AuthorizerMethod = keyof Authorizer;

/**
 * Each method's argument shape: `named` ones take a segment before the context. Typed as a
 * Record over every method, so adding one to Authorizer without listing it fails type-checking.
 */
export const METHOD_KINDS: Readonly<Record<AuthorizerMethod, 'named' | 'unnamed'>> = {
  aclRead: 'unnamed', aclWrite: 'unnamed', agentRead: 'named', agentWrite: 'named',
  eventRead: 'named', eventWrite: 'named', identityRead: 'named', identityReadAll: 'unnamed',
  identityWrite: 'named', identityWriteAny: 'unnamed', intentionDefaultAllow: 'unnamed',
  intentionRead: 'named', intentionWrite: 'named', keyList: 'named', keyRead: 'named',
  keyWrite: 'named', keyWritePrefix: 'named', keyringRead: 'unnamed', keyringWrite: 'unnamed',
  meshRead: 'unnamed', meshWrite: 'unnamed', namespaceRead: 'named', namespaceWrite: 'named',
  nodeRead: 'named', nodeReadAll: 'unnamed', nodeWrite: 'named', operatorRead: 'unnamed',
  operatorWrite: 'unnamed', partitionRead: 'named', partitionWrite: 'named', peeringRead: 'unnamed',
  peeringWrite: 'unnamed', preparedQueryRead: 'named', preparedQueryWrite: 'named',
  serviceRead: 'named', serviceReadAll: 'unnamed', serviceWrite: 'named', serviceWriteAny: 'unnamed',
  sessionRead: 'named', sessionWrite: 'named', snapshot: 'unnamed',
  trafficPermissionsRead: 'named', trafficPermissionsWrite: 'named',
};

/** Every Authorizer method. */
export const AUTHORIZER_METHODS = Object.keys(METHOD_KINDS) as AuthorizerMethod[];

/** Calls `method` on `authz` with the context taken from a generic argument list. */
export function callMethod(authz: Authorizer, method: AuthorizerMethod, name: string, ctx?: AuthorizerContext): Decision {
  const fn = authz[method] as (...args: unknown[]) => Decision;
  return METHOD_KINDS[method] === 'named' ? fn.call(authz, name, ctx) : fn.call(authz, ctx);
}

/** Builds an Authorizer whose every method answers through `decide(method, name, ctx)`. */
export function authorizerFrom(decide: (method: AuthorizerMethod, name: string, ctx?: AuthorizerContext) => Decision): Authorizer {
  const out: Record<string, unknown> = {};
  for (const method of AUTHORIZER_METHODS) {
    out[method] = METHOD_KINDS[method] === 'named'
      ? (name: string, ctx?: AuthorizerContext) => decide(method, name, ctx)
      : (ctx?: AuthorizerContext) => decide(method, '', ctx);
  }
  return out as unknown as Authorizer;
}
