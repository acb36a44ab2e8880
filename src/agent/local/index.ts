// Public surface of the agent's local state: registrations, check runners, anti-entropy, tokens.
// Decoding, validating and vetting a registration is registration.ts's (not loaded by a start).
export { createLocal, type Local, type LocalDeps } from './build.ts';
export { LocalAgent, NODE_MAINT_CHECK_ID, SERVICE_MAINT_PREFIX, type RegisterOptions } from './local-agent.ts';
export { LocalState, localKey, serviceKeyOf, checkKeyOf, type LocalCheck, type ConfigSource } from './state.ts';
export { AntiEntropy, scaleFactor, type CatalogTarget, type SyncTokens } from './anti-entropy.ts';
export type { LocalService, ServiceDefinition, CheckDefinition } from './definition.ts';
export type { SidecarRegistration } from './sidecar.ts';
export { TokenStore, tokenKind, type TokenKind } from './tokens.ts';
export { canonicalJSON } from './compare.ts';
export type { LocalSettings } from './load.ts';
