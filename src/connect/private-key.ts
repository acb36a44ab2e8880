// CA private keys as Consul's `connect.GeneratePrivateKeyWithConfig` makes them: EC (P-256 by
// default) PEM-encoded as SEC1 `EC PRIVATE KEY`, or RSA as PKCS#1 `RSA PRIVATE KEY`.

import { generateKeyPair, type KeyObject } from 'node:crypto';
import { BadRequestError } from '../errors.ts';

/** The key algorithms Consul's CA config accepts (`PrivateKeyType`). */
export type PrivateKeyType = 'ec' | 'rsa';

/** A freshly generated CA key: the private key to sign with, its DER SubjectPublicKeyInfo and the PEM Consul stores. */
export interface GeneratedKey {
  key: KeyObject;
  spki: Uint8Array;
  pem: string;
  type: PrivateKeyType;
  bits: number;
}

const EC_CURVES: Record<number, { namedCurve: string }> = {
  224: { namedCurve: 'P-224' },
  256: { namedCurve: 'P-256' },
  384: { namedCurve: 'P-384' },
  521: { namedCurve: 'P-521' },
};

/** Checks type and bits the way Consul's `CommonCAProviderConfig.Validate` does, with its messages. */
export function validateKeyConfig(type: string, bits: number): asserts type is PrivateKeyType {
  if (type === 'ec') {
    if (!EC_CURVES[bits]) throw new BadRequestError('EC key length must be one of (224, 256, 384, 521) bits');
  } else if (type === 'rsa') {
    if (bits !== 2048 && bits !== 4096) throw new BadRequestError('RSA key length must be 2048 or 4096 bits');
  } else {
    throw new BadRequestError("private key type must be either 'ec' or 'rsa'");
  }
}

/**
 * Generates a CA key pair of `type`/`bits` (validated first) and its Consul-style PEM, with node:crypto
 * on libuv's thread pool (an RSA 4096 key takes seconds; WebCrypto's EC path cost ≈ 10 ms more CPU on
 * an agent's first start, compiling its modules).
 */
export async function generatePrivateKey(type: string, bits: number): Promise<GeneratedKey> {
  validateKeyConfig(type, bits);
  const pair = await new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) => (err ? reject(err) : resolve({ publicKey, privateKey }));
    if (type === 'ec') generateKeyPair('ec', { namedCurve: EC_CURVES[bits]!.namedCurve }, done);
    else generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 }, done);
  });
  const pem = pair.privateKey.export({ format: 'pem', type: type === 'ec' ? 'sec1' : 'pkcs1' }).toString();
  const spki = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
  return { key: pair.privateKey, spki, pem, type, bits };
}
