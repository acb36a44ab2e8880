// Public surface of the Connect CA layer: the built-in CA root, the roots list, CA configuration, and leaf signing.

export {
  generateRoot,
  caRootFromPem,
  goTime,
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
export { generatePrivateKey, validateKeyConfig, type PrivateKeyType, type GeneratedKey } from './private-key.ts';
export { trustDomain, signingUri } from './spiffe.ts';
export { hexString, keyId, certFingerprint } from './fingerprints.ts';
export { caCommonName, compactUid } from './common-names.ts';
export { signLeaf, CERT_DRIFT_MS, type LeafTemplate, type SignedLeaf } from './leaf-cert.ts';
export { createCsr, parseCsr, type ParsedCsr } from './csr.ts';
export { agentUri, parseAgentUri, type AgentSpiffeId } from './spiffe.ts';
