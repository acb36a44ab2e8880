// Public surface of the Connect CA layer: the built-in CA root, the roots list, CA configuration, and leaf signing.

export {
  generateRoot,
  caRootFromPem,
  goTime,
  RootCertError,
  DEFAULT_ROOT_CERT_TTL_MS,
  type CARoot,
  type GenerateRootOptions,
} from './ca-root.ts';
export { rootsResponse, rootsPem, PEM_CHAIN_CONTENT_TYPE, type CARootList } from './ca-roots.ts';
export {
  defaultCAConfiguration,
  CONSUL_PROVIDER_DEFAULTS,
  DEFAULT_LEAF_CERT_TTL,
  DEFAULT_INTERMEDIATE_CERT_TTL,
  DEFAULT_ROOT_CERT_TTL,
  type CAConfiguration,
} from './ca-config.ts';
export {
  parseCommonCAConfig,
  translateCAConfigKeys,
  agentCAConfiguration,
  caSettings,
  CAConfigError,
  MIN_LEAF_CERT_TTL_MS,
  MAX_LEAF_CERT_TTL_MS,
  type CommonCAConfig,
  type CASettings,
} from './ca-common-config.ts';
export { generatePrivateKey, validateKeyConfig, type PrivateKeyType, type GeneratedKey } from './private-key.ts';
export { trustDomain, signingUri } from './spiffe.ts';
export { hexString, keyId, certFingerprint } from './fingerprints.ts';
export { caCommonName, compactUid } from './common-names.ts';
// Leaf signing (leaf-cert.ts) and CSRs (csr.ts) are imported from their files where used, on the
// first AutoEncrypt.Sign or client certificate request, so agents that never sign one skip them (issue #9).
export type { LeafTemplate, SignedLeaf } from './leaf-cert.ts';
export type { ParsedCsr } from './csr.ts';
export { agentUri, parseAgentUri, serviceUri, parseServiceUri, spiffePartition, type AgentSpiffeId, type ServiceSpiffeId } from './spiffe.ts';
