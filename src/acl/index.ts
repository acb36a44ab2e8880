// The acl layer's public surface: the rule language, authorizers, ACL wire types, built-ins and
// Consul's ACL error texts. A leaf: it imports nothing from state, endpoint or http.
export {
  defaultIsAllow, enforce, isPolicyValid, parseAccessLevel, takesPrecedenceOver,
  type AccessLevel, type AuthorizerContext, type Decision, type RequiredAccess, type Resource,
} from './access.ts';
export {
  AUTHORIZER_METHODS, authorizerFrom, callMethod, METHOD_KINDS,
  type Authorizer, type AuthorizerMethod,
} from './authorizer.ts';
export {
  ACL_BOOTSTRAP_INVALID_RESET_INDEX, ACL_BOOTSTRAP_NOT_ALLOWED, ACL_BUILTIN_POLICIES,
  ACL_POLICY_GLOBAL_MANAGEMENT_DESC, ACL_POLICY_GLOBAL_MANAGEMENT_ID, ACL_POLICY_GLOBAL_MANAGEMENT_NAME,
  ACL_POLICY_GLOBAL_MANAGEMENT_RULES, ACL_POLICY_GLOBAL_READ_ONLY_DESC, ACL_POLICY_GLOBAL_READ_ONLY_ID,
  ACL_POLICY_GLOBAL_READ_ONLY_NAME, ACL_POLICY_GLOBAL_READ_ONLY_RULES, ACL_RESERVED_ID_PREFIX,
  aclIDReserved, ANONYMOUS_TOKEN_DESCRIPTION, ANONYMOUS_TOKEN_ID, ANONYMOUS_TOKEN_SECRET,
  isValidNodeIdentityName, isValidServiceIdentityName, nodeIdentityPolicy, nodeIdentityRules,
  serviceIdentityPolicy, serviceIdentityRules, syntheticPolicy, syntheticPolicyID, type SyntheticPolicy,
} from './builtins.ts';
export { denialFor, enforceResource, requireAllowed } from './enforce.ts';
export type { ExplainOrigin, ExplainRule, ExplainSource, Explanation } from './explain.ts';
export {
  ACL_ERROR_TEXT, aclNotFoundError, isACLNotFound, isPermissionDenied, permissionDenied,
  permissionDeniedByACL, permissionDeniedByACLUnnamed, permissionDeniedMessage, RulesError,
  type DenialFacts,
} from './errors.ts';
// The auth-method side (JWT and OIDC validation, identity-provider fetches, claim assertions) is
// in identity-providers.ts, imported by the endpoints on first use (issue #9); its types are here.
export type { IdpFetch } from './idp-fetch.ts';
export type { JwtMethodConfig, VerifiedIdentity } from './jwt.ts';
export type { DiscoveryDocument, JwtKeySourceConfig, RemoteKeySets, RemoteKeySource } from './jwt-keys.ts';
export type { OidcClaims, OidcClients, OidcFlowSecrets, OidcMethodConfig } from './oidc.ts';
// The policy compiler (rules parsing, HCL, legacy translation, merging, policy authorizers,
// explain: 11 modules) is loaded through policyCompiler() on first use (issue #9).
export { policyCompiler, type PolicyCompiler } from './policy-compiler.ts';
export type { PolicyAuthorizer } from './policy-authorizer.ts';
export type {
  IntentionRule, NamespaceRule, PartitionRule, Policy, PolicyRules,
  ScalarResource, SegmentedResource, SegmentRule, SegmentRules,
} from './rules.ts';
export type { HomeScope } from './scoped-authorizer.ts';
export { secretDigest, secretsEqual } from './secret.ts';
export { allowAll, chainedAuthorizer, denyAll, manageAll, rootAuthorizer } from './static.ts';
export {
  ACL_TEMPLATED_POLICIES, templatedPolicyRules, templatedPolicySynthetic, validateTemplatedPolicy,
  type TemplatedPolicyBase,
} from './templated.ts';
export type * from './types.ts';
