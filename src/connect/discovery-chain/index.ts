// Public surface of the discovery chain compiler (Consul's agent/consul/discoverychain).
export { compileChain, isHttpLike } from './compile.ts';
export { targetId, targetSni } from './chain-state.ts';
export {
  ChainGraphError,
  type ChainEntries, type ChainEntry, type CompileRequest, type CompiledDiscoveryChain, type DiscoveryGraphNode,
  type DiscoveryTarget, type DiscoveryResolver, type DiscoveryRoute, type DiscoverySplit,
} from './types.ts';
export { pick, pickStr, pickObj, pickList, durationMs } from './entry-fields.ts';
