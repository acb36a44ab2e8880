// Secret handling without timing leaks: secrets are compared as fixed-length SHA-256 digests with
// crypto.timingSafeEqual, and tables index tokens by digest so a lookup never compares secrets.
import { createHash, hash, timingSafeEqual } from 'node:crypto';

/** The SHA-256 digest of a secret (hex): the key tokens are indexed and cached under. */
export function secretDigest(secret: string): string {
  // One-shot: every request with ACLs on resolves its token by digest, and a Hash object costs ~4x.
  return hash('sha256', secret, 'hex');
}

/**
 * Whether two secrets are equal, in time independent of where they differ; both are hashed first
 * so that neither length nor a common prefix shows in the timing.
 */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
