// Public surface of the built-in Connect proxy.
export { Proxy, type ProxyDeps } from './proxy.ts';
export {
  parseUpstreamFlag, splitListen, joinHostPort, publicListenerDefaults, upstreamDefaults, upstreamString, configFromProxyService,
  type ProxyConfig, type PublicListenerConfig, type UpstreamConfig,
} from './config.ts';
export { findSidecarProxy } from './sidecar.ts';
