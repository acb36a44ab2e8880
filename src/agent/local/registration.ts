// What registering through the agent's API needs: decoding, validating and ACL-vetting service and
// check definitions, their sidecars and proxies. Loaded with the agent's service and check routes
// (http/v1/agent-local.ts) or a first registration's use, never by a start (issue #9).
export { decodeService, decodeCheck } from './definition.ts';
export { validateServiceDefinition, validateCheckDefinition, validateSidecarChecks, validStatus } from './validate.ts';
export { registrableSidecar, sidecarId, SIDECAR_SUFFIX } from './sidecar.ts';
export { agentProxy, decodeProxy } from './proxy.ts';
export {
  checkVisible, filteredHeader, serviceVisible, vetCheckRegister, vetCheckUpdate, vetNodeUpdate, vetServiceRead,
  vetServiceRegister, vetServiceUpdate,
} from './acl.ts';
