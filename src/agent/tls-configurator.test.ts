import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PeerCertificate, TlsOptions } from 'node:tls';
import type { TlsConfig, TlsProtocolConfig } from './config/tls.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { reloadTls, serverHostname, TlsConfigurator } from './tls-configurator.ts';
import { testCA } from '../../test/support/tls-cert.ts';
import { tlsProtocol } from '../../test/support/tls-config.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-tlsconf-'));
const files = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 's.pem'), key: path.join(dir, 's.key') };

before(async () => {
  const ca = await testCA();
  const leaf = await ca.issue('s', 'server', ['server.dc1.consul']);
  fs.writeFileSync(files.ca, ca.cert);
  fs.writeFileSync(files.cert, leaf.cert);
  fs.writeFileSync(files.key, leaf.key);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const proto = tlsProtocol;
const config = (rpc: Partial<TlsProtocolConfig>, https: Partial<TlsProtocolConfig> = {}): TlsConfig => ({
  internalRpc: proto(rpc), https: proto(https), grpc: proto(), serverMode: true, serverName: '', nodeName: 'n',
  domain: 'consul.', enableAgentTlsForChecks: false, autoTls: false,
});
const withFiles = { caFile: files.ca, certFile: files.cert, keyFile: files.key };
const peer = (san: string) => ({ subject: { CN: 'x' }, subjectaltname: san }) as unknown as PeerCertificate;

test('serverHostname is Consul\'s server.<dc>.<domain> without the trailing dot', () => {
  assert.equal(serverHostname('dc1', 'consul.'), 'server.dc1.consul');
  assert.equal(serverHostname('east', 'example.com'), 'server.east.example.com');
});

test('without a tls stanza, or without verify_outgoing and a key pair, RPC stays plaintext', () => {
  const t = new TlsConfigurator('dc1');
  t.update(undefined);
  assert.equal(t.incomingRpc(), null);
  assert.equal(t.outgoingRpc(), null);
  assert.equal(t.verifyIncomingRpc(), false);
  assert.equal(t.httpsOptions(), null);
  t.update(config({ caFile: files.ca }));
  assert.equal(t.incomingRpc(), null, 'no key pair: nothing to serve TLS with');
  assert.equal(t.outgoingRpc(), null, 'no verify_outgoing: plain TCP, as Consul');
});

test('incoming: the key pair, the CA and a required client certificate with verify_incoming', () => {
  const t = new TlsConfigurator('dc1');
  t.update(config({ ...withFiles, verifyIncoming: true }));
  const opts = t.incomingRpc()!;
  assert.ok(opts.cert && opts.key && opts.ca);
  assert.equal(opts.requestCert, true);
  assert.equal(t.verifyIncomingRpc(), true);
  t.update(config(withFiles));
  assert.equal(t.incomingRpc()!.requestCert, false);
  assert.equal(t.verifyIncomingRpc(), false);
});

test('outgoing: the chain is checked against the CA; the name server.<dc>.<domain> only with verify_server_hostname', () => {
  const t = new TlsConfigurator('dc1');
  t.update(config({ ...withFiles, verifyOutgoing: true }));
  const chainOnly = t.outgoingRpc()!;
  assert.equal(chainOnly.rejectUnauthorized, true);
  assert.ok(chainOnly.ca && chainOnly.cert && chainOnly.key, 'the CA, and the agent\'s own pair as client certificate');
  assert.equal(chainOnly.servername, undefined);
  assert.equal(chainOnly.checkServerIdentity!('127.0.0.1', peer('DNS:elsewhere')), undefined);

  t.update(config({ ...withFiles, verifyOutgoing: true, verifyServerHostname: true }));
  const own = t.outgoingRpc()!;
  assert.equal(own.servername, 'server.dc1.consul');
  assert.equal(own.checkServerIdentity!('127.0.0.1', peer('DNS:server.dc1.consul')), undefined);
  assert.match(String(own.checkServerIdentity!('127.0.0.1', peer('DNS:localhost, IP Address:127.0.0.1'))), /server\.dc1\.consul/);
  // Another datacenter's servers must hold its name.
  const remote = t.outgoingRpc('dc2')!;
  assert.equal(remote.servername, 'server.dc2.consul');
  assert.ok(remote.checkServerIdentity!('127.0.0.1', peer('DNS:server.dc1.consul')) instanceof Error);
});

test('a failed update keeps the loaded material; reloadTls says so in Consul\'s words and leaves HTTPS alone', () => {
  const t = new TlsConfigurator('dc1');
  t.update(config(withFiles, withFiles));
  const version = t.version;
  const updated: TlsOptions[] = [];
  const https = { updateTls: (o: TlsOptions) => void updated.push(o) };
  const next = (tls: TlsConfig) => ({ tls }) as RuntimeConfig;
  assert.throws(() => reloadTls(t, next(config({ ...withFiles, certFile: path.join(dir, 'missing.pem') })), https),
    (e: Error) => e.message.startsWith('Failed reloading tls configuration: Failed to load cert/key pair: open ') && e.message.includes('missing.pem'));
  assert.equal(t.version, version);
  assert.ok(t.incomingRpc()?.cert);
  assert.equal(updated.length, 0);
  reloadTls(t, next(config(withFiles, withFiles)), https);
  assert.equal(t.version, version + 1);
  assert.equal(updated.length, 1);
  assert.ok(updated[0].cert);
});

test('managedTls needs the key pair and a CA; servers of a managed store probe over it even without verify_outgoing', () => {
  const t = new TlsConfigurator('dc1');
  t.update(undefined);
  assert.equal(t.managedTls(), null);
  t.update(config({ caFile: files.ca }));
  assert.equal(t.managedTls(), null, 'a CA without a key pair');
  t.update(config({ certFile: files.cert, keyFile: files.key }));
  assert.equal(t.managedTls(), null, 'a key pair without a CA');
  t.update(config({ ...withFiles, verifyIncoming: true }));
  const m = t.managedTls();
  assert.ok(m);
  assert.equal(m.verifyIncoming, true);
  assert.equal(m.servername, undefined);
  assert.equal(t.outgoingRpc(), null);
  assert.equal(t.serverRpc(false), null, 'not a managed store: as outgoingRpc');
  const probe = t.serverRpc(true);
  assert.ok(probe?.secureContext && probe.cert && probe.rejectUnauthorized);
  assert.equal(probe.checkServerIdentity?.('127.0.0.1', peer('DNS:other')), undefined, 'the chain only');
  t.update(config({ ...withFiles, verifyIncoming: true, verifyServerHostname: true, verifyOutgoing: true }));
  assert.equal(t.managedTls()?.servername, 'server.dc1.consul');
  assert.equal(t.serverRpc(true), t.outgoingRpc());
});
