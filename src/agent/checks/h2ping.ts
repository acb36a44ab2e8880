// H2PING checks (Consul's CheckH2PING): open an HTTP/2 connection (TLS with ALPN h2 by default,
// h2c when h2ping_use_tls is false) and send one PING frame; an ACK within the timeout is passing.
import * as net from 'node:net';
import type { Clock } from '../../clock.ts';
import { goDialError, splitHostPort, type NodeError } from './go-errors.ts';
import { DEFAULT_NET_TIMEOUT_MS } from './http.ts';
import type { ProbeResult } from './script.ts';
import { tlsClientOptions } from './tcp.ts';
import { nodeHttp2 } from '../../node-http.ts';
import type { CheckType } from './types.ts';

/** What an H2PING probe needs. */
export interface H2PingProbeDeps {
  clock: Clock;
  /** Extra CA certificates (PEM) trusted for TLS pings. */
  ca?: string;
  /** enable_agent_tls_for_checks: the agent's CAs, key pair and default server name. */
  agentTls?: import('node:tls').ConnectionOptions;
}

/** Builds the probe for an H2PING check. */
export function h2pingProbe(def: CheckType, deps: H2PingProbeDeps): (signal: AbortSignal) => Promise<ProbeResult> {
  const target = def.H2PING ?? '';
  const useTls = def.H2PingUseTLS !== false;
  const timeoutMs = (def.Timeout ?? 0) > 0 ? def.Timeout! : DEFAULT_NET_TIMEOUT_MS;
  return (signal) => new Promise<ProbeResult>((resolve) => {
    const hp = splitHostPort(target);
    if ('error' in hp) {
      resolve({ status: 'critical', output: `Failed to dial to ${target}: dial tcp: ${hp.error}` });
      return;
    }
    const host = net.isIPv6(hp.host) ? `[${hp.host}]` : hp.host;
    const session = nodeHttp2().connect(`${useTls ? 'https' : 'http'}://${host}:${hp.port}`,
      useTls ? tlsClientOptions(def, hp.host, deps.ca, deps.agentTls) : {});
    let connected = false;
    const finish = (r: ProbeResult): void => {
      timer.cancel();
      signal.removeEventListener('abort', onStop);
      session.destroy();
      resolve(r);
    };
    const fail = (why: string): ProbeResult => connected
      ? { status: 'critical', output: `HTTP2 ping failed: ${why}` }
      : { status: 'critical', output: `Failed to dial to ${target}: ${why}` };
    const onStop = (): void => finish({ status: 'critical', output: 'check stopped' });
    const timer = deps.clock.setTimer(timeoutMs, () =>
      finish(fail(connected ? 'context deadline exceeded' : `dial tcp ${target}: i/o timeout`)));
    signal.addEventListener('abort', onStop, { once: true });
    session.once('connect', () => {
      connected = true;
      session.ping((err) => finish(err ? fail(err.message) : { status: 'passing', output: 'HTTP2 ping was successful' }));
    });
    session.once('error', (err: NodeError) => finish(fail(connected ? err.message : goDialError(err, 'tcp', target))));
  });
}
