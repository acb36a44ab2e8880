// TCP checks (Consul's CheckTCP): a connect (optionally with a TLS handshake) within the timeout
// is passing (`TCP connect <addr>: Success`); any dial error is critical with Go's text.
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Clock } from '../../clock.ts';
import { goDialError, splitHostPort, type NodeError } from './go-errors.ts';
import { DEFAULT_NET_TIMEOUT_MS } from './http.ts';
import type { ProbeResult } from './script.ts';
import type { CheckType } from './types.ts';

/** What a TCP probe needs. */
export interface TcpProbeDeps {
  clock: Clock;
  /** Extra CA certificates (PEM) trusted for TCP+TLS checks. */
  ca?: string;
  /** enable_agent_tls_for_checks: the agent's CAs, key pair and default server name. */
  agentTls?: tls.ConnectionOptions;
}

/**
 * TLS client options shared by TCP, gRPC and H2PING checks (skip-verify, SNI name, CA); with the
 * agent's material (enable_agent_tls_for_checks) its CAs are trusted, its certificate is offered
 * and its server name is the default, as Consul's OutgoingTLSConfigForCheck.
 */
export function tlsClientOptions(def: CheckType, host: string, ca?: string, agentTls?: tls.ConnectionOptions): tls.ConnectionOptions {
  if (agentTls) return { ...agentTls, rejectUnauthorized: !def.TLSSkipVerify, servername: def.TLSServerName || agentTls.servername };
  const servername = def.TLSServerName || (net.isIP(host) ? undefined : host);
  return { rejectUnauthorized: !def.TLSSkipVerify, servername, ca };
}

/** Builds the probe for a TCP check. */
export function tcpProbe(def: CheckType, deps: TcpProbeDeps): (signal: AbortSignal) => Promise<ProbeResult> {
  const addr = def.TCP ?? '';
  const timeoutMs = (def.Timeout ?? 0) > 0 ? def.Timeout! : DEFAULT_NET_TIMEOUT_MS;
  const label = def.TCPUseTLS ? 'TCP+TLS' : 'TCP';
  return (signal) => new Promise<ProbeResult>((resolve) => {
    const hp = splitHostPort(addr);
    if ('error' in hp) {
      resolve({ status: 'critical', output: `dial tcp: ${hp.error}` });
      return;
    }
    const sock = def.TCPUseTLS
      ? tls.connect({ host: hp.host, port: hp.port, ...tlsClientOptions(def, hp.host, deps.ca, deps.agentTls) })
      : net.connect({ host: hp.host, port: hp.port });
    const finish = (r: ProbeResult): void => {
      timer.cancel();
      signal.removeEventListener('abort', onStop);
      sock.destroy();
      resolve(r);
    };
    const onStop = (): void => finish({ status: 'critical', output: 'check stopped' });
    const timer = deps.clock.setTimer(timeoutMs, () => finish({ status: 'critical', output: `dial tcp ${addr}: i/o timeout` }));
    signal.addEventListener('abort', onStop, { once: true });
    sock.once(def.TCPUseTLS ? 'secureConnect' : 'connect', () => finish({ status: 'passing', output: `${label} connect ${addr}: Success` }));
    sock.once('error', (err: NodeError) => finish({ status: 'critical', output: goDialError(err, 'tcp', addr) }));
  });
}
