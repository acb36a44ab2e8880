import assert from 'node:assert/strict';
import { test } from 'node:test';
import tls from 'node:tls';
import type { ConsulClient } from '../../api/index.ts';
import { silentLogger } from '../../log.ts';
import { testCA } from '../../../test/support/tls-cert.ts';
import { freePort } from '../../../test/support/ports.ts';
import type { ConnectService } from '../proxy/service.ts';
import { GatewayListeners, type ListenerSpec } from './listeners.ts';

function listeners(): GatewayListeners {
  return new GatewayListeners({
    client: {} as ConsulClient, svc: {} as ConnectService, logger: silentLogger(), bindHost: '127.0.0.1',
    connectTimeoutMs: 1000, random: Math.random, leaf: () => undefined, what: 'test gateway',
  });
}

/** The CN of the certificate the TLS listener on `port` serves to a client asking for `servername`. */
function servedCn(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      resolve(String(s.getPeerCertificate().subject?.CN ?? ''));
      s.end();
    });
    s.on('error', reject);
  });
}

const httpSpec = (port: number, t: ListenerSpec['tls']): ListenerSpec => ({ port, protocol: 'http', tls: t, vhosts: [], services: [] });

test('a certificate that does not load (key of another certificate: a file half rewritten) leaves the listener its old one, and the other listeners still apply', async () => {
  const ca = await testCA();
  const [a, b] = [await ca.issue('a.example.com', 'server', ['a.example.com']), await ca.issue('b.example.com', 'server', ['b.example.com'])];
  const [tlsPort, plainPort] = [await freePort(), await freePort()];
  const l = listeners();
  try {
    await l.apply([httpSpec(tlsPort, { minVersion: 'TLSv1.2', cert: a })]);
    assert.equal(await servedCn(tlsPort, 'a.example.com'), 'a.example.com');
    // b's certificate with a's key, and a new listener beside it.
    await l.apply([httpSpec(tlsPort, { minVersion: 'TLSv1.2', cert: { cert: b.cert, key: a.key } }), httpSpec(plainPort, null)]);
    assert.equal(await servedCn(tlsPort, 'a.example.com'), 'a.example.com');
    assert.ok(l.addresses.has(plainPort), 'the new listener opened');
    // The pair completed: it is taken.
    await l.apply([httpSpec(tlsPort, { minVersion: 'TLSv1.2', cert: b }), httpSpec(plainPort, null)]);
    assert.equal(await servedCn(tlsPort, 'b.example.com'), 'b.example.com');
  } finally {
    await l.close();
  }
});

test('an SNI certificate that does not load is left out; the others are still served by name', async () => {
  const ca = await testCA();
  const [a, b, c] = [
    await ca.issue('a.example.com', 'server', ['a.example.com']), await ca.issue('b.example.com', 'server', ['b.example.com']),
    await ca.issue('c.example.com', 'server', ['c.example.com']),
  ];
  const port = await freePort();
  const l = listeners();
  try {
    const sni = [
      { names: ['a.example.com'], ...a }, { names: ['b.example.com'], cert: b.cert, key: a.key }, { names: ['c.example.com'], ...c },
    ];
    await l.apply([httpSpec(port, { minVersion: 'TLSv1.2', cert: a, sni })]);
    assert.equal(await servedCn(port, 'c.example.com'), 'c.example.com');
    // The broken one gets the default certificate rather than a failed handshake.
    assert.equal(await servedCn(port, 'b.example.com'), 'a.example.com');
  } finally {
    await l.close();
  }
});

test("a listener's cipher suites are the only TLS 1.2 suites it accepts", async () => {
  const ca = await testCA();
  const a = await ca.issue('a.example.com', 'server', ['a.example.com']);
  const port = await freePort();
  const l = listeners();
  const hello = (ciphers: string) => new Promise<boolean>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers }, () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  });
  try {
    await l.apply([httpSpec(port, { minVersion: 'TLSv1.2', ciphers: ['ECDHE-ECDSA-AES128-GCM-SHA256'], cert: a })]);
    assert.equal(await hello('ECDHE-ECDSA-AES128-GCM-SHA256'), true);
    assert.equal(await hello('ECDHE-ECDSA-AES256-GCM-SHA384'), false);
  } finally {
    await l.close();
  }
});
