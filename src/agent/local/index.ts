// Public surface of the agent's local state: registrations, check runners, anti-entropy, tokens.
export { createLocal, type Local, type LocalDeps } from './build.ts';
export { LocalAgent, NODE_MAINT_CHECK_ID, SERVICE_MAINT_PREFIX, type RegisterOptions } from './local-agent.ts';
export { LocalState, localKey, serviceKeyOf, checkKeyOf, type LocalCheck, type ConfigSource } from './state.ts';
export { AntiEntropy, scaleFactor, type CatalogTarget, type SyncTokens } from './anti-entropy.ts';
export { decodeService, decodeCheck, type LocalService, type ServiceDefinition, type CheckDefinition } from './definition.ts';
export { validateServiceDefinition, validateCheckDefinition, validateSidecarChecks, validStatus } from './validate.ts';
export { registrableSidecar, sidecarId, SIDECAR_SUFFIX, type SidecarRegistration } from './sidecar.ts';
export { agentProxy, decodeProxy } from './proxy.ts';
export { TokenStore, tokenKind, type TokenKind } from './tokens.ts';
export { canonicalJSON } from './compare.ts';
export type { LocalSettings } from './load.ts';
export {
  checkVisible, filteredHeader, serviceVisible, vetCheckRegister, vetCheckUpdate, vetNodeUpdate, vetServiceRead,
  vetServiceRegister, vetServiceUpdate,
} from './acl.ts';
