// CA private keys as Consul's `connect.GeneratePrivateKeyWithConfig` makes them: EC (P-256 by
// default) PEM-encoded as SEC1 `EC PRIVATE KEY`, or RSA as PKCS#1 `RSA PRIVATE KEY`.

import { createPrivateKey, type webcrypto } from 'node:crypto';
import { BadRequestError } from '../errors.ts';

/** The key algorithms Consul's CA config accepts (`PrivateKeyType`). */
export type PrivateKeyType = 'ec' | 'rsa';

/** A freshly generated CA key: the WebCrypto pair for signing and the PEM Consul stores. */
export interface GeneratedKey {
  keys: webcrypto.CryptoKeyPair;
  pem: string;
  type: PrivateKeyType;
  bits: number;
  /** The WebCrypto signing algorithm matching the key, as Go's x509 would pick it. */
  signingAlgorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
}

// Go's x509 signs with the hash that matches the curve size.
const EC_CURVES: Record<number, { namedCurve: string; hash: string }> = {
  256: { namedCurve: 'P-256', hash: 'SHA-256' },
  384: { namedCurve: 'P-384', hash: 'SHA-384' },
  521: { namedCurve: 'P-521', hash: 'SHA-512' },
};

/**
 * Checks type and bits the way Consul's `CommonCAProviderConfig.Validate` does, with its messages.
 * P-224 passes Consul's check but WebCrypto cannot generate it, so it is refused here.
 */
export function validateKeyConfig(type: string, bits: number): asserts type is PrivateKeyType {
  if (type === 'ec') {
    if (![224, 256, 384, 521].includes(bits)) {
      throw new BadRequestError('EC key length must be one of (224, 256, 384, 521) bits');
    }
    if (!EC_CURVES[bits]) throw new BadRequestError(`EC key length ${bits} is not supported by Proconsul`);
  } else if (type === 'rsa') {
    if (bits !== 2048 && bits !== 4096) throw new BadRequestError('RSA key length must be 2048 or 4096 bits');
  } else {
    throw new BadRequestError("private key type must be either 'ec' or 'rsa'");
  }
}

/** Generates a CA key pair of `type`/`bits` (validated first) and its Consul-style PEM. */
export async function generatePrivateKey(type: string, bits: number): Promise<GeneratedKey> {
  validateKeyConfig(type, bits);
  const subtle = globalThis.crypto.subtle;
  if (type === 'ec') {
    const { namedCurve, hash } = EC_CURVES[bits];
    const keys = await subtle.generateKey({ name: 'ECDSA', namedCurve }, true, ['sign', 'verify']);
    const pem = await exportPem(keys.privateKey, 'sec1');
    return { keys, pem, type, bits, signingAlgorithm: { name: 'ECDSA', hash } };
  }
  const algorithm: webcrypto.RsaHashedKeyGenParams = {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: bits,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  };
  const keys = await subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const pem = await exportPem(keys.privateKey, 'pkcs1');
  return { keys, pem, type, bits, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } };
}

async function exportPem(key: webcrypto.CryptoKey, type: 'sec1' | 'pkcs1'): Promise<string> {
  const pkcs8 = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', key));
  const keyObject = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return keyObject.export({ format: 'pem', type }).toString();
}
