import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { AGENT_CIPHER_SUITES, type TlsProtocolConfig } from './config/tls.ts';
import { loadCAs, loadTls, serverTlsOptions, TlsSetupError } from './tls.ts';
import { testCA } from '../../test/support/tls-cert.ts';
import { tlsProtocol } from '../../test/support/tls-config.ts';

const proto = (over: Partial<TlsProtocolConfig> = {}): TlsProtocolConfig => tlsProtocol({ tlsMinVersion: 'TLSv1_2', ...over });

test('server options follow tlsutil: versions, suites (TLS 1.3 kept), client certificates only with verify_incoming', () => {
  const plain = serverTlsOptions({ config: proto({ tlsMinVersion: 'TLS_AUTO' }), ca: null });
  assert.equal(plain.minVersion, 'TLSv1.2');
  assert.equal(plain.ciphers, undefined);
  assert.equal(plain.requestCert, false);
  const all = serverTlsOptions({ config: proto({ tlsMinVersion: 'TLSv1_3', cipherSuites: [...AGENT_CIPHER_SUITES], verifyIncoming: true }), ca: [Buffer.from('x')] });
  assert.equal(all.minVersion, 'TLSv1.3');
  assert.equal(all.requestCert, true);
  assert.equal(all.rejectUnauthorized, true);
  // Every agent suite has an OpenSSL name, and the TLS 1.3 suites stay on as Go keeps them.
  assert.equal(all.ciphers?.split(':').length, 3 + AGENT_CIPHER_SUITES.size);
  assert.ok(all.ciphers?.startsWith('TLS_AES_256_GCM_SHA384:'));
  assert.doesNotThrow(() => createSecureContext({ ciphers: all.ciphers }));
});

test('start-up rules of tlsutil: verify_outgoing needs a CA; nothing configured loads nothing', () => {
  const base = { serverMode: true, serverName: '', nodeName: 'n', domain: 'consul.', enableAgentTlsForChecks: false, autoTls: false };
  const empty = loadTls({ ...base, internalRpc: proto(), https: proto(), grpc: proto() });
  assert.deepEqual(empty.https, { config: proto(), ca: null });
  assert.throws(() => loadTls({ ...base, internalRpc: proto({ verifyOutgoing: true }), https: proto(), grpc: proto() }),
    (e: Error) => e instanceof TlsSetupError && e.message === 'VerifyOutgoing set but no CA certificates were provided');
  assert.throws(() => loadTls({ ...base, internalRpc: proto(), https: proto({ caPath: '/nonexistent-proconsul' }), grpc: proto() }),
    (e: Error) => e.message === 'lstat /nonexistent-proconsul: no such file or directory');
});

test('ca_path naming a plain file loads that file as the CA, as filepath.Walk visits a file root; a directory is walked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-capath-'));
  try {
    const [a, b] = [await testCA('CA A'), await testCA('CA B')];
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, a.cert);
    mkdirSync(join(dir, 'more'));
    writeFileSync(join(dir, 'more', 'b.pem'), b.cert);
    assert.deepEqual(loadCAs('', ca), [readFileSync(ca)]);
    assert.deepEqual(loadCAs('', dir)?.map(String), [a.cert, b.cert]);
    const leaf = await a.issue('server.dc1.consul', 'server');
    writeFileSync(join(dir, 's.pem'), leaf.cert);
    writeFileSync(join(dir, 's.key'), leaf.key);
    const base = { serverMode: true, serverName: '', nodeName: 'n', domain: 'consul.', enableAgentTlsForChecks: false, autoTls: false };
    const https = proto({ caPath: ca, certFile: join(dir, 's.pem'), keyFile: join(dir, 's.key'), verifyIncoming: true });
    assert.deepEqual(loadTls({ ...base, internalRpc: proto(), https, grpc: proto() }).https.ca, [readFileSync(ca)]);
    assert.throws(() => loadCAs('', join(ca, 'x')), { message: `lstat ${join(ca, 'x')}: not a directory` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
