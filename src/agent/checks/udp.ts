// UDP checks (Consul's CheckUDP): send an empty datagram; any reply, or silence until the
// timeout, is passing (`UDP connect <addr>: Success`); a send error or ICMP refusal is critical.
import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import type { Clock } from '../../clock.ts';
import { goDialError, goReadError, splitHostPort, type NodeError } from './go-errors.ts';
import { DEFAULT_NET_TIMEOUT_MS } from './http.ts';
import type { ProbeResult } from './script.ts';
import type { CheckType } from './types.ts';

/** What a UDP probe needs. */
export interface UdpProbeDeps {
  clock: Clock;
}

async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const fam = net.isIP(host);
  if (fam === 4 || fam === 6) return { address: host, family: fam };
  const r = await lookup(host);
  return { address: r.address, family: r.family === 6 ? 6 : 4 };
}

function endpoint(a: { address: string; port: number }): string {
  return net.isIPv6(a.address) ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function exchange(sock: dgram.Socket, addr: string, timeoutMs: number, clock: Clock): Promise<ProbeResult> {
  const success: ProbeResult = { status: 'passing', output: `UDP connect ${addr}: Success` };
  return new Promise((resolve) => {
    const timer = clock.setTimer(timeoutMs, () => resolve(success));
    const done = (r: ProbeResult): void => { timer.cancel(); resolve(r); };
    sock.once('message', () => done(success));
    sock.once('error', (err: NodeError) => {
      const local = endpoint(sock.address());
      const remote = endpoint(sock.remoteAddress());
      done({ status: 'critical', output: goReadError(err, 'udp', local, remote) });
    });
    sock.send(Buffer.alloc(0), (err) => {
      if (err) done({ status: 'critical', output: `write udp ${endpoint(sock.address())}->${addr}: write: ${err.message}` });
    });
  });
}

/** Builds the probe for a UDP check. */
export function udpProbe(def: CheckType, deps: UdpProbeDeps): (signal: AbortSignal) => Promise<ProbeResult> {
  const addr = def.UDP ?? '';
  const timeoutMs = (def.Timeout ?? 0) > 0 ? def.Timeout! : DEFAULT_NET_TIMEOUT_MS;
  return async (signal) => {
    const hp = splitHostPort(addr);
    if ('error' in hp) return { status: 'critical', output: `dial udp: ${hp.error}` };
    let target: { address: string; family: 4 | 6 };
    try {
      target = await resolveHost(hp.host);
    } catch (err) {
      return { status: 'critical', output: goDialError(err as NodeError, 'udp', addr) };
    }
    const sock = dgram.createSocket(target.family === 6 ? 'udp6' : 'udp4');
    const onStop = (): void => { sock.close(); };
    signal.addEventListener('abort', onStop, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.connect(hp.port, target.address, () => { sock.off('error', reject); resolve(); });
      });
      return await exchange(sock, addr, timeoutMs, deps.clock);
    } catch (err) {
      return { status: 'critical', output: goDialError(err as NodeError, 'udp', addr) };
    } finally {
      signal.removeEventListener('abort', onStop);
      try { sock.close(); } catch { /* already closed by stop() */ }
    }
  };
}
