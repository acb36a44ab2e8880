import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { devConfig } from '../../test/support/agent.ts';
import { testCA } from '../../test/support/tls-cert.ts';
import { AutoEncrypt, joinHosts, renewDelay } from './auto-encrypt.ts';
import type { AutoTls } from './tls-configurator.ts';
import type { SignedResponse } from '../endpoint/auto-encrypt.ts';

const cleanup: (() => unknown)[] = [];
after(async () => { for (const c of cleanup) await c(); });

test('renewDelay: between 60% and 90% of the lifetime, never negative', () => {
  assert.equal(renewDelay(0, 1000, 0, 0), 600);
  assert.equal(renewDelay(0, 1000, 0, 1), 900);
  assert.equal(renewDelay(0, 1000, 100, 0.5), 650);
  assert.equal(renewDelay(0, 1000, 5000, 0.5), 0);
});

test('joinHosts: gossip ports dropped, IPv6 brackets removed, cloud auto-join strings skipped', () => {
  assert.deepEqual(joinHosts(['10.0.0.1:8301', 'srv.example', '[::1]:8301', '[fe80::1]', '::1', 'provider=aws tag_key=x']),
    ['10.0.0.1', 'srv.example', '::1', 'fe80::1', '::1']);
});

/** A canned AutoEncrypt.Sign answer valid from `from` for `lifeMs`. */
function signed(from: number, lifeMs: number, tag: string): SignedResponse {
  return {
    IssuedCert: {
      SerialNumber: tag, CertPEM: `cert-${tag}`, PrivateKeyPEM: '', Agent: 'c1', AgentURI: 'spiffe://x/agent/client/dc/dc1/id/c1',
      ValidAfter: new Date(from).toISOString(), ValidBefore: new Date(from + lifeMs).toISOString(),
    },
    ConnectCARoots: { ActiveRootID: 'r', TrustDomain: 'x.consul', Roots: [{ RootCert: 'root' } as never] },
    ManualCARoots: ['manual'], VerifyServerHostname: true,
  };
}

test('the first certificate comes from a join host without a client certificate; renewals go over RPC (the join hosts when that fails), back off, and after expiry use the join hosts only', async () => {
  const ca = await testCA();
  const leaf = await ca.issue('s1', 'server');
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const seen: { token?: string; body: { Datacenter: string; CSR: string }; cert: boolean }[] = [];
  let answer = signed(clock.now(), 10_000, 'first');
  let serverFails = false;
  const srv = https.createServer({ cert: leaf.cert, key: leaf.key, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ token: req.headers['x-consul-token'] as string | undefined, body: JSON.parse(body), cert: Object.keys((req.socket as import('node:tls').TLSSocket).getPeerCertificate()).length > 0 });
      if (serverFails) {
        res.statusCode = 500;
        res.end('No cluster leader');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.push(() => srv.close());
  const port = (srv.address() as { port: number }).port;

  const updates: AutoTls[] = [];
  let calls = 0;
  let callFails = false;
  let armed = 0;
  const config = devConfig({ server: false, autoEncrypt: { tls: true, allowTls: false, dnsSan: ['extra.example'], ipSan: ['10.1.2.3'] } });
  config.ports.server = port;
  config.gossip = { retryJoin: ['127.0.0.1:8301'] } as typeof config.gossip;
  const ae = new AutoEncrypt({
    // Each renewal or retry arms one timer; a failure arms it only after the refused answer came
    // back, so the test waits for the arming before it moves the clock past the retry.
    config, clock: { now: () => clock.now(), setTimer: (ms, fn) => (armed++, clock.setTimer(ms, fn)) },
    random: () => 1, logger: silentLogger(), token: () => 'agent-token',
    tls: { updateAutoTls: (a) => void updates.push(a), insecureRpc: () => ({ ca: ca.cert, checkServerIdentity: () => undefined }) },
    call: async (body) => {
      calls++;
      if (callFails) throw new Error('no servers');
      return { status: 200, body: Buffer.from(JSON.stringify(signed(clock.now(), 10_000, `renewed-${calls}`))) };
    },
    sleep: async () => undefined,
  });
  cleanup.push(() => ae.stop());
  await ae.start();
  assert.equal(seen.length, 1);
  assert.equal(seen[0].token, 'agent-token');
  assert.equal(seen[0].cert, false);
  assert.equal(seen[0].body.Datacenter, 'dc1');
  const { parseCsr } = await import('../connect/csr.ts');
  const csr = await parseCsr(seen[0].body.CSR);
  assert.deepEqual(csr.uris, ['spiffe://unknown/agent/client/dc/dc1/id/test-node']);
  assert.deepEqual(csr.dnsNames, ['localhost', 'extra.example']);
  assert.deepEqual(csr.ipAddresses, ['127.0.0.1', '::1', '10.1.2.3']);
  assert.equal(updates.length, 1);
  assert.deepEqual({ ...updates[0], keyPem: updates[0].keyPem.includes('PRIVATE KEY') }, {
    certPem: 'cert-first', keyPem: true, connectCaPems: ['root'], manualCaPems: ['manual'], verifyServerHostname: true,
  });

  // random() = 1: renewal at 90% of the 10 s lifetime.
  clock.advance(8_999);
  assert.equal(calls, 0);
  clock.advance(1);
  await until(() => updates.length === 2);
  assert.equal(updates[1].certPem, 'cert-renewed-1');
  assert.equal(seen.length, 1, 'a renewal goes over the agent RPC');

  // The RPC failing (no server known, say): the join hosts answer the renewal.
  callFails = true;
  answer = signed(clock.now() + 9_000, 10_000, 'via-join');
  clock.advance(9_000);
  await until(() => updates.length === 3);
  assert.equal(updates[2].certPem, 'cert-via-join');
  assert.equal(calls, 2);
  assert.equal(seen.length, 2);

  // Both failing: retries back off (1 s, 2 s, …) and stop at the expiry, where the expired path takes over.
  serverFails = true;
  clock.advance(9_000);
  await until(() => calls === 3 && seen.length === 3 && armed === 4);
  // Expired now: only the join hosts are asked.
  clock.advance(1_000);
  await until(() => seen.length === 4 && armed === 5);
  assert.equal(calls, 3);
  clock.advance(1_999);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(seen.length, 4, 'the second retry waits 2 s');
  serverFails = false;
  answer = signed(clock.now(), 10_000, 'after-expiry');
  clock.advance(1);
  await until(() => updates.length === 4);
  assert.equal(updates[3].certPem, 'cert-after-expiry');
});

async function until(cond: () => boolean): Promise<void> {
  // Up to 20 s of wall time: a bound for a stuck test only (CI runs test files side by side).
  for (let i = 0; i < 2_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond());
}

test('stop() while a first request is in flight ends start() without another wait', async () => {
  const config = devConfig({ server: false, autoEncrypt: { tls: true, allowTls: false, dnsSan: [], ipSan: [] } });
  config.gossip = { retryJoin: ['127.0.0.1:8301'] } as typeof config.gossip;
  const sleeps: number[] = [];
  let ae: AutoEncrypt | undefined;
  ae = new AutoEncrypt({
    config, clock: new ManualClock(0), random: () => 0, logger: silentLogger(), token: () => '',
    // The request fails once stop() has been called during it.
    tls: { updateAutoTls: () => undefined, insecureRpc: () => { ae!.stop(); return null; } },
    call: () => Promise.reject(new Error('unused')),
    sleep: async (ms) => void sleeps.push(ms),
  });
  await ae.start();
  assert.deepEqual(sleeps, [], 'no wait after stop()');
});
