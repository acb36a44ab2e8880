// A TLS protocol block as the config reader leaves it when nothing is set, for unit tests that
// build TlsConfig values by hand.
import type { TlsProtocolConfig } from '../../src/agent/config/tls.ts';

export function tlsProtocol(over: Partial<TlsProtocolConfig> = {}): TlsProtocolConfig {
  return {
    verifyIncoming: false, caFile: '', caPath: '', certFile: '', keyFile: '', tlsMinVersion: 'TLS_AUTO',
    cipherSuites: null, verifyOutgoing: false, verifyServerHostname: false, useAutoCert: false, ...over,
  };
}
