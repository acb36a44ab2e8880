// The acl layer's auth-method side: static method config checks, claim assertions, JWT
// validation with static or remote keys, the OIDC code flow and the fetch they use to reach
// identity providers. Not re-exported by index.ts: the endpoints import this on the first
// auth-method write or login, so agents that never use one do not load it (issue #9).
export { authMethodConfigError } from './auth-method-config.ts';
export { assertClaims, claimAssertionsError } from './claim-assertions.ts';
export { idpFetch, type IdpFetch } from './idp-fetch.ts';
export { checkClaims, mapClaims, verifyJwt, type JwtMethodConfig, type VerifiedIdentity } from './jwt.ts';
export { fetchDiscovery, RemoteKeySets, verifyRemoteJwt, type DiscoveryDocument, type JwtKeySourceConfig, type RemoteKeySource } from './jwt-keys.ts';
export {
  authorizationURL, claimsFromAuthCode, newFlowSecrets, OidcClients, OidcFlowError, validRedirect,
  type OidcClaims, type OidcFlowSecrets, type OidcMethodConfig,
} from './oidc.ts';
