// The agent's TLS material, loaded and checked as Consul's tlsutil.Configurator does at start-up
// (key pairs, CA files and directories, the verify_incoming/verify_outgoing rules), and the
// node:tls server options built from it (tls-configurator.ts holds the live settings).
import { readFileSync, readdirSync, lstatSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { createSecureContext, type SecureVersion, type TlsOptions } from 'node:tls';
import { goFileError } from '../api/errors.ts';
import type { TlsConfig, TlsProtocolConfig } from './config/tls.ts';

/** One protocol's loaded certificate, key and CA bundle (null without CAs, as Go's nil pool). */
export interface LoadedProtocol {
  config: TlsProtocolConfig;
  cert?: Buffer;
  key?: Buffer;
  ca: Buffer[] | null;
}

/** Every protocol's loaded material. */
export interface LoadedTls {
  internalRpc: LoadedProtocol;
  https: LoadedProtocol;
  grpc: LoadedProtocol;
}

/** A TLS file or rule problem found at start-up; the message is Consul's. */
export class TlsSetupError extends Error {
  override name = 'TlsSetupError';
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function readOrThrow(path: string, wrap: (msg: string) => string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsSetupError(wrap(goFileError(err as NodeJS.ErrnoException, path)), { cause: err });
  }
}

function loadKeyPair(certFile: string, keyFile: string): { cert?: Buffer; key?: Buffer } {
  if (certFile === '' || keyFile === '') return {};
  const wrap = (m: string) => `Failed to load cert/key pair: ${m}`;
  const cert = readOrThrow(certFile, wrap);
  const key = readOrThrow(keyFile, wrap);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new TlsSetupError(wrap((err as Error).message), { cause: err });
  }
  return { cert, key };
}

// filepath.Walk: the root itself when it is not a directory (so a ca_path naming a file loads
// that one file), else lexical order with directories entered in place; symlinks, the root's
// included, are not followed. Errors read as Go's (`lstat <path>: …`, `open <dir>: …`).
function walkFiles(path: string, out: string[]): void {
  let isDir: boolean;
  try {
    isDir = lstatSync(path).isDirectory();
  } catch (err) {
    throw new TlsSetupError(goFileError(err as NodeJS.ErrnoException, path).replace(/^open /, 'lstat '), { cause: err });
  }
  if (!isDir) {
    out.push(path);
    return;
  }
  let names: string[];
  try {
    names = readdirSync(path).sort();
  } catch (err) {
    throw new TlsSetupError(goFileError(err as NodeJS.ErrnoException, path), { cause: err });
  }
  for (const name of names) walkFiles(join(path, name), out);
}

/** Consul's LoadCAs: ca_file wins over ca_path, whose every file is read. */
export function loadCAs(caFile: string, caPath: string): Buffer[] | null {
  if (caFile === '' && caPath === '') return null;
  const wrap = (path: string) => (m: string) => `Error loading from ${path}: ${m}`;
  if (caFile !== '') return checkPems([readOrThrow(caFile, wrap(caFile))]);
  const files: string[] = [];
  walkFiles(caPath, files);
  if (files.length === 0) throw new TlsSetupError('Error loading from CAPath: no CAs found');
  return checkPems(files.map((f) => readOrThrow(f, wrap(f))));
}

// Go's AppendCertsFromPEM: a file counts when at least one certificate in it parses.
function checkPems(pems: Buffer[]): Buffer[] | null {
  for (const pem of pems) {
    const blocks = pem.toString('utf8').match(PEM_CERT) ?? [];
    const parses = blocks.some((b) => {
      try {
        new X509Certificate(b);
        return true;
      } catch {
        return false;
      }
    });
    if (!parses) throw new TlsSetupError(`failed to parse PEM ${pem.toString('utf8')}`);
  }
  return pems.some((p) => p.length > 0) ? pems : null;
}

function loadProtocol(pc: TlsProtocolConfig, autoTls: boolean): LoadedProtocol {
  const pair = loadKeyPair(pc.certFile, pc.keyFile);
  const ca = loadCAs(pc.caFile, pc.caPath);
  if (pc.verifyIncoming) {
    if (ca === null) throw new TlsSetupError('VerifyIncoming set but no CA certificates were provided');
    if (!pair.cert && !autoTls) {
      throw new TlsSetupError('VerifyIncoming requires either a Cert and Key pair in the configuration file, or auto_encrypt/auto_config be enabled');
    }
  }
  if (pc.verifyOutgoing && ca === null) throw new TlsSetupError('VerifyOutgoing set but no CA certificates were provided');
  return { config: pc, ...pair, ca };
}

/** Loads and checks every protocol in Consul's order (gRPC, HTTPS, internal RPC); throws TlsSetupError. */
export function loadTls(cfg: TlsConfig): LoadedTls {
  const grpc = loadProtocol(cfg.grpc, cfg.autoTls);
  const https = loadProtocol(cfg.https, cfg.autoTls);
  const internalRpc = loadProtocol(cfg.internalRpc, cfg.autoTls);
  return { internalRpc, https, grpc };
}

const MIN_VERSION: Record<string, SecureVersion> = {
  TLS_AUTO: 'TLSv1.2', TLSv1_0: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3',
};

/** IANA suite names → OpenSSL names (the agent's ten, as Consul maps them for Envoy). */
export const OPENSSL_CIPHERS: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
};

// Go applies configured suites to TLS 1.2 only; Node would turn TLS 1.3 off unless its suites are listed.
export const TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

/**
 * node:tls options for a server of one protocol (Consul's commonTLSConfig): its key pair, the CA
 * bundle for client certificates, the minimum version and suites, and with verify_incoming a
 * required client certificate signed by one of the CAs (tls.RequireAndVerifyClientCert).
 */
export function serverTlsOptions(p: LoadedProtocol): TlsOptions {
  const suites = (p.config.cipherSuites ?? []).map((s) => OPENSSL_CIPHERS[s]).filter(Boolean);
  return {
    ...(p.cert ? { cert: p.cert, key: p.key } : {}),
    ...(p.ca ? { ca: p.ca } : {}),
    minVersion: MIN_VERSION[p.config.tlsMinVersion] ?? 'TLSv1.2',
    ...(suites.length ? { ciphers: `${TLS13_SUITES}:${suites.join(':')}` } : {}),
    requestCert: p.config.verifyIncoming,
    rejectUnauthorized: p.config.verifyIncoming,
  };
}
