import { test } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ManualClock } from '../clock.ts';
import { Telemetry } from './metrics.ts';
import { registerAgentTlsExpiry } from './cert-expiry.ts';
import { TlsConfigurator } from '../agent/tls-configurator.ts';
import type { webcrypto } from 'node:crypto';

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A self-signed PEM certificate valid until `notAfter`. */
async function certUntil(notAfter: Date): Promise<string> {
  const keys = await globalThis.crypto.subtle.generateKey(EC, true, ['sign', 'verify']) as { privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=client.dc1.consul', notBefore: new Date(notAfter.getTime() - 30 * 86_400_000), notAfter, keys, signingAlgorithm: EC,
  }, globalThis.crypto);
  return cert.toString('pem');
}

async function expiry(t: Telemetry): Promise<number | undefined> {
  const json = (await t.consulJSON()) as { Gauges: { Name: string; Value: number }[] };
  return json.Gauges.find((g) => g.Name === 'consul.agent.tls.cert.expiry')?.Value;
}

test('agent.tls.cert.expiry: absent without a certificate, then follows each renewed auto_encrypt certificate', async () => {
  // Whole seconds: the certificate's NotAfter has no milliseconds.
  const clock = new ManualClock(1_700_000_000_000);
  const t = new Telemetry(clock);
  const tls = new TlsConfigurator('dc1');
  registerAgentTlsExpiry(t, () => tls.cert(), clock);
  assert.equal(await expiry(t), undefined);
  const auto = { keyPem: '', connectCaPems: [], manualCaPems: [], verifyServerHostname: false };
  tls.updateAutoTls({ ...auto, certPem: await certUntil(new Date(clock.now() + 86_400_000)) });
  assert.equal(await expiry(t), 86_400);
  clock.advance(3_600_000);
  assert.equal(await expiry(t), 86_400 - 3_600);
  // The renewed certificate replaces the old one in the gauge.
  tls.updateAutoTls({ ...auto, certPem: await certUntil(new Date(clock.now() + 3 * 86_400_000)) });
  assert.equal(await expiry(t), 3 * 86_400);
});
