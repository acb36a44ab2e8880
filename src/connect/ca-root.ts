// The built-in (`consul` provider) Connect CA root: the self-signed CA certificate Consul's leader
// creates on first start in the primary datacenter, and the CARoot record that describes it.

import type * as X509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, randomFillSync, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { caCommonName, compactUid } from './common-names.ts';
import { selfSignedCaCert } from './ca-cert.ts';
import { certFingerprint, hexString, keyId } from './fingerprints.ts';
import { generatePrivateKey, type PrivateKeyType } from './private-key.ts';
import { signingUri } from './spiffe.ts';

/** A trusted CA root, with Consul's JSON field names (`structs.CARoot`). */
export interface CARoot {
  /** Colon-hex SHA-1 fingerprint of the root certificate's DER. */
  ID: string;
  /** Human-friendly name, `<Provider> CA Primary Cert`. */
  Name: string;
  /** The certificate's serial number (Consul's uint64). */
  SerialNumber: number;
  /** Colon-hex Subject Key Identifier of the leaf-signing certificate (the root, for `consul`). */
  SigningKeyID: string;
  /** The cluster id the root was generated under (the bare id, without `.consul`). */
  ExternalTrustDomain: string;
  /** Validity bounds in Go's RFC 3339 form (`2018-05-25T21:39:23Z`). */
  NotBefore: string;
  NotAfter: string;
  /** PEM of the root certificate, ending in a newline. */
  RootCert: string;
  /** PEM intermediates attached to leaf certs; `null` for the primary `consul` provider. */
  IntermediateCerts: string[] | null;
  /** True for exactly one root: the one signing new leaves. */
  Active: boolean;
  /** When the root stopped being active; stored only, never in API responses (Consul: `json:"-"`). */
  RotatedOutAt?: string;
  /** Key algorithm and size of the root's key (`ec`/256 by default). */
  PrivateKeyType: string;
  PrivateKeyBits: number;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Options for `generateRoot`; defaults are Consul's (`ec`, 256 bits, RootCertTTL 87600h). */
export interface GenerateRootOptions {
  clusterId: string;
  /** The primary datacenter; Consul's root certificate does not embed it. */
  datacenter: string;
  clock: { now(): number };
  privateKeyType?: PrivateKeyType;
  privateKeyBits?: number;
  rootCertTtlMs?: number;
  /** Consul uses the provider's next serial counter value; random (≤ 2^53) when omitted. */
  serialNumber?: number;
  /** The configuration's `PrivateKey` (PEM): the root is made on this key instead of a new one. */
  privateKeyPem?: string;
  /** The configuration's `RootCert` (PEM, with `privateKeyPem`): used as the root as it is. */
  rootCertPem?: string;
}

let x509Module: Promise<typeof X509> | undefined;

/** @peculiar/x509 (after the reflect-metadata polyfill its tsyringe stack needs), imported only to
 *  read a root certificate made elsewhere (`caRootFromPem`); the built-in root is written without it. */
function loadX509(): Promise<typeof X509> {
  x509Module ??= import('reflect-metadata').then(() => import('@peculiar/x509'));
  return x509Module;
}

/** RootCertTTL default: 87600h (10 years). */
export const DEFAULT_ROOT_CERT_TTL_MS = 87_600 * 3_600_000;

/**
 * Creates the root the `consul` provider's GenerateRoot makes: a new CA key (or the configured
 * `PrivateKey`) and a self-signed root certificate on it (`generateCA`), or the configured
 * `RootCert` as it is, and the active CARoot describing it (`newCARoot`). The private key PEM is
 * returned separately: it belongs in provider state, never in CARoot.
 */
export async function generateRoot(opts: GenerateRootOptions): Promise<{ root: CARoot; privateKeyPem: string }> {
  if (opts.rootCertPem) {
    if (!opts.privateKeyPem) throw new Error('must provide a private key when providing a root cert');
    const certKey = parseCert(opts.rootCertPem).publicKey.export({ type: 'spki', format: 'der' });
    const root = await caRootFromPem(opts.rootCertPem, 'consul', opts.clusterId);
    const ownKey = createPublicKey(parseSigner(opts.privateKeyPem, 'error parsing private key')).export({ type: 'spki', format: 'der' });
    if (!certKey.equals(ownKey)) throw new Error('the RootCert is not for the PrivateKey');
    return { root, privateKeyPem: opts.privateKeyPem };
  }
  const key = opts.privateKeyPem ? configuredKey(opts.privateKeyPem) : await generatedKey(opts.privateKeyType ?? 'ec', opts.privateKeyBits ?? 256);
  const kid = keyId(key.spki);
  // Go's x509 encodes validity with whole seconds; Consul's root starts at "now", no drift buffer.
  const now = Math.floor(opts.clock.now() / 1000) * 1000;
  const notAfter = now + (opts.rootCertTtlMs ?? DEFAULT_ROOT_CERT_TTL_MS);
  const serialNumber = opts.serialNumber ?? randomSerial();
  if (!Number.isSafeInteger(serialNumber) || serialNumber <= 0) throw new RangeError(`invalid serial number: ${serialNumber}`);
  const der = selfSignedCaCert({
    serialNumber, commonName: caCommonName('consul', compactUid(), opts.clusterId, true),
    notBeforeMs: now, notAfterMs: notAfter, spki: key.spki, keyId: kid, uri: signingUri(opts.clusterId),
  }, key.signer);
  const root = caRoot('consul', opts.clusterId, {
    der, pem: new NodeX509(der).toString(), serialNumber, signingKeyId: hexString(kid),
    notBefore: new Date(now), notAfter: new Date(notAfter), keyType: key.type, keyBits: key.bits,
  });
  return { root, privateKeyPem: key.pem };
}

/** A CA key to make a root on: its signer, DER SubjectPublicKeyInfo, PEM, type and size. */
interface RootKey {
  signer: KeyObject;
  spki: Uint8Array;
  pem: string;
  type: string;
  bits: number;
}

async function generatedKey(type: PrivateKeyType, bits: number): Promise<RootKey> {
  const key = await generatePrivateKey(type, bits);
  return { signer: key.key, spki: key.spki, pem: key.pem, type: key.type, bits: key.bits };
}

function configuredKey(pem: string): RootKey {
  // Consul's generateCA names the key it could not read (%q); its value is left out here.
  const signer = parseSigner(pem, 'error generating CA: error parsing private key');
  const spki = new Uint8Array(createPublicKey(signer).export({ type: 'spki', format: 'der' }));
  const info = keyInfo(signer);
  return { signer, spki, pem, type: info.type, bits: info.bits };
}

/** A configured RootCert that is not a certificate; the message is Consul's ParseCert text, which it answers unprefixed. */
export class RootCertError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RootCertError';
  }
}

/** The first PEM block of `pem`, as Go's pem.Decode finds it. */
function firstPemBlock(pem: string): { type: string; der: Buffer } | undefined {
  const m = /-----BEGIN ([\x21-\x2c\x2e-\x7e](?:[\x20-\x2c\x2e-\x7e]*[\x21-\x2c\x2e-\x7e])?)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) return undefined;
  const body = m[2].split(/\r?\n/).filter((l) => !l.includes(':')).join('');
  return { type: m[1], der: Buffer.from(body, 'base64') };
}

/** Consul's connect.ParseCert: the first PEM block, which must be a certificate. */
function parseCert(pem: string): NodeX509 {
  const block = firstPemBlock(pem);
  if (!block) throw new RootCertError('no PEM-encoded data found');
  if (block.type !== 'CERTIFICATE') throw new RootCertError('first PEM-block should be CERTIFICATE type');
  try {
    return new NodeX509(block.der);
  } catch {
    throw new RootCertError('x509: malformed certificate');
  }
}

/** Consul's connect.ParseSigner: the first PEM block, an EC, RSA or PKCS #8 private key; errors under `prefix`. */
function parseSigner(pem: string, prefix: string): KeyObject {
  const block = firstPemBlock(pem);
  const fail = (why: string): never => {
    throw new Error(`${prefix}: ${why}`);
  };
  if (!block) return fail('no PEM-encoded data found');
  if (!['EC PRIVATE KEY', 'RSA PRIVATE KEY', 'PRIVATE KEY'].includes(block.type)) return fail(`unknown PEM block type for signing key: ${block.type}`);
  try {
    return createPrivateKey(pem);
  } catch {
    return fail('private key is not a valid format');
  }
}

/** Builds the active CARoot for a root certificate PEM, as Consul's `newCARoot` does. */
export async function caRootFromPem(pem: string, provider: string, clusterId: string): Promise<CARoot> {
  const x509 = await loadX509();
  const cert = new x509.X509Certificate(pem);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const info = keyInfo(new NodeX509(pem).publicKey);
  return caRoot(provider, clusterId, {
    der: new Uint8Array(cert.rawData), pem, serialNumber: Number(BigInt.asUintN(64, BigInt(`0x${cert.serialNumber}`))),
    signingKeyId: ski ? hexString(fromHex(ski.keyId)) : '', notBefore: cert.notBefore, notAfter: cert.notAfter,
    keyType: info.type, keyBits: info.bits,
  });
}

/** What a CARoot record is made of, read from or known about its certificate. */
interface RootFacts {
  der: Uint8Array;
  pem: string;
  serialNumber: number;
  signingKeyId: string;
  notBefore: Date;
  notAfter: Date;
  keyType: string;
  keyBits: number;
}

function caRoot(provider: string, clusterId: string, f: RootFacts): CARoot {
  return {
    ID: certFingerprint(f.der),
    Name: `${providerPrettyName(provider)} CA Primary Cert`,
    SerialNumber: f.serialNumber,
    SigningKeyID: f.signingKeyId,
    ExternalTrustDomain: clusterId,
    NotBefore: goTime(f.notBefore),
    NotAfter: goTime(f.notAfter),
    RootCert: f.pem.endsWith('\n') ? f.pem : `${f.pem}\n`,
    IntermediateCerts: null,
    Active: true,
    PrivateKeyType: f.keyType,
    PrivateKeyBits: f.keyBits,
    CreateIndex: 0,
    ModifyIndex: 0,
  };
}

/** Formats a time as Go's `time.Time` marshals to JSON (RFC 3339, fraction only when non-zero). */
export function goTime(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

/** Consul's KeyInfoFromCert: the algorithm and size of a (public or private) key. */
function keyInfo(pub: KeyObject): { type: string; bits: number } {
  const details = pub.asymmetricKeyDetails ?? {};
  if (pub.asymmetricKeyType === 'ec') {
    const bits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp224r1: 224 };
    return { type: 'ec', bits: bits[details.namedCurve ?? ''] ?? 0 };
  }
  if (pub.asymmetricKeyType === 'rsa') return { type: 'rsa', bits: details.modulusLength ?? 0 };
  throw new Error(`unsupported key type: ${pub.asymmetricKeyType}`);
}

function providerPrettyName(provider: string): string {
  const names: Record<string, string> = { consul: 'Consul', vault: 'Vault', 'aws-pca': 'Aws-Pca' };
  return names[provider] ?? provider;
}

// node:crypto's fill, not WebCrypto's getRandomValues: its first call in an agent compiles
// WebCrypto's argument converters (≈3 ms of a start).
function randomSerial(): number {
  const [hi, lo] = randomFillSync(new Uint32Array(2));
  return (hi & 0x1fffff) * 2 ** 32 + lo || 1;
}

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
