// Common Names for CA certificates, as Consul's `connect.CACN` and `connect.CompactUID` build them:
// `{pri|sec}-{uid8}.{provider}.ca.{trustDomain first 8}.consul`.
import { randomFillSync } from 'node:crypto';

const INVALID_DNS_CHARS = /[^a-z0-9]/g;

/**
 * A short random id: 8 random bytes read little-endian as a signed 64-bit integer, in base 36,
 * cut to 8 characters. Like Consul's, it may start with `-`, which `caCommonName` strips.
 */
export function compactUid(): string {
  const raw = randomFillSync(new Uint8Array(8));
  const n = new DataView(raw.buffer).getBigInt64(0, true);
  return n.toString(36).slice(0, 8);
}

/** The CN of a CA certificate for `provider` in the cluster whose trust domain is `trustDomain`. */
export function caCommonName(provider: string, uniqueId: string, trustDomain: string, primary: boolean): string {
  const providerSan = provider.toLowerCase().replace(INVALID_DNS_CHARS, '');
  const uidSan = uniqueId.toLowerCase().replace(INVALID_DNS_CHARS, '');
  const kind = primary ? 'pri' : 'sec';
  // 64-byte CN budget: 7 for ".consul", 8 for the trust domain, 8 for ".pri.ca.", 9 for "-{uid}".
  return `${kind}-${uidSan.slice(0, 8)}.${providerSan.slice(0, 64 - 32)}.ca.${trustDomain.slice(0, 8)}.consul`;
}
