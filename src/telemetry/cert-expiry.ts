// Certificate expiry gauges: seconds until a certificate's NotAfter, each certificate parsed once
// (Consul's CertExpirationMonitor reads the same figure every hour; here it is read when scraped).
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Telemetry } from './metrics.ts';

/** Seconds until a PEM certificate's NotAfter (the first certificate of a chain), parsing each certificate once. */
export class CertExpiry {
  readonly #clock: Clock;
  #pem: string | Buffer = '';
  #notAfter = NaN;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** NaN when the PEM does not parse. A Buffer is parsed again only when another Buffer is given. */
  secondsLeft(pem: string | Buffer): number {
    if (pem !== this.#pem) {
      this.#pem = pem;
      try {
        this.#notAfter = Date.parse(new X509Certificate(pem).validTo);
      } catch {
        this.#notAfter = NaN;
      }
    }
    return Math.floor((this.#notAfter - this.#clock.now()) / 1000);
  }
}

/**
 * Consul's consul.agent.tls.cert.expiry, on servers and clients: seconds until the agent's TLS
 * certificate expires, `cert` being what Consul's Configurator.Cert() returns (the internal RPC
 * certificate, else auto_encrypt's). Without one the gauge is not emitted (NaN in Prometheus).
 */
export function registerAgentTlsExpiry(t: Pick<Telemetry, 'gauge'>, cert: () => string | Buffer | null, clock: Clock): void {
  const expiry = new CertExpiry(clock);
  t.gauge('agent.tls.cert.expiry', 'Seconds until the agent tls certificate expires. Updated every hour', () => {
    const pem = cert();
    return pem === null ? NaN : expiry.secondsLeft(pem);
  });
}
