// /v1/acl/explain (beyond Consul): answers allow or deny for one resource and access level and
// names what decided it — the policy (and the role it came through), the identity, the management
// policy or the default policy — by evaluating the token's policies one at a time.
import { BadRequestError } from '../errors.ts';
import { enforceResource, policyCompiler, type ExplainRule } from '../acl/index.ts';
import { authorize, entContext } from './acl-enforce.ts';
import { aclPreCheck } from './acl-links.ts';
import type { AclIdentity, AclResolver } from './acl-resolver.ts';

/** What to explain: `Resource` is `kind:segment` (`key:app/db`, `operator`); `Token` defaults to the caller's. */
export interface ExplainRequest {
  Token?: string;
  Resource: string;
  Access: string;
}

/** The answer: the decision, what was asked, whose token, and the deciding rule. */
export interface ExplainAnswer {
  Decision: 'allow' | 'deny';
  Resource: string;
  Access: string;
  AccessorID: string;
  Rule: ExplainRule;
}

/** Splits `key:app/db` into resource and segment (everything after the first colon). */
export function parseResource(text: string): { resource: string; segment: string } {
  if (text === '') throw new BadRequestError('Missing Resource (e.g. "key:app/db")');
  const at = text.indexOf(':');
  return at < 0 ? { resource: text, segment: '' } : { resource: text.slice(0, at), segment: text.slice(at + 1) };
}

/** Explains ACL decisions over the shared resolver. */
export class AclExplainEndpoint {
  readonly #resolver: AclResolver;

  constructor(resolver: AclResolver) {
    this.#resolver = resolver;
  }

  /**
   * Explains `req` for the caller's token, or for `req.Token` — which needs acl:read unless it is
   * the caller's own token (a token may always ask about itself).
   */
  explain(caller: AclIdentity | undefined, req: ExplainRequest): ExplainAnswer {
    aclPreCheck(this.#resolver);
    const { resource, segment } = parseResource(req.Resource);
    if (req.Access === '') throw new BadRequestError('Missing Access (read, list, write)');
    let who = caller ?? this.#resolver.resolve('');
    if (req.Token) {
      const target = this.#resolver.resolve(req.Token);
      if (target.accessorID !== who.accessorID) authorize(caller, 'aclRead');
      who = target;
    }
    // A namespaced token is explained in its home namespace, where its rules outside blocks apply.
    const actual = enforceResource(who.authorizer, resource, segment, req.Access, entContext(who.ent)) === 'allow' ? 'allow' : 'deny';
    const base = { Resource: req.Resource, Access: req.Access, AccessorID: who.accessorID };
    const grants = this.#resolver.sourcesOf(who);
    if (grants.management) return { ...base, Decision: actual, Rule: { Source: 'management', Match: 'default', Segment: '' } };
    const explained = policyCompiler().explainSources(grants.sources, this.#resolver.defaultAuthorizer(), resource, segment, req.Access);
    // The token's own authorizer is the truth; the explanation names the rule behind it.
    return { ...base, Decision: actual, Rule: explained.Rule };
  }
}
