import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { test } from 'node:test';
import type { ConsulClient } from '../../api/index.ts';
import { silentLogger } from '../../log.ts';
import { testCA } from '../../../test/support/tls-cert.ts';
import { AuthzError, ConnectService } from './service.ts';

test('an authorization the agent does not answer fails once the deadline aborts', { timeout: 20_000 }, async () => {
  const paths: string[] = [];
  const client = {
    json: (spec: { path: string; options?: { signal?: AbortSignal } }) => {
      paths.push(spec.path);
      return new Promise((_, reject) => spec.options?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    },
  } as unknown as ConsulClient;
  const svc = new ConnectService('db', client, silentLogger());
  const socket = { getPeerCertificate: () => ({ subjectaltname: 'URI:spiffe://t.consul/ns/default/dc/dc1/svc/web', serialNumber: '0A' }) } as unknown as TLSSocket;
  const deadline = new AbortController();
  const res = svc.authorize(socket, deadline.signal);
  deadline.abort();
  await assert.rejects(res, (err: Error) => err instanceof AuthzError && err.message === 'connect: authz call failed: aborted');
  assert.deepEqual(paths, ['/v1/agent/connect/authorize']);
  svc.close();
});

test('an upstream dial verifies the server\'s chain to the roots and its SPIFFE ID', { timeout: 30_000 }, async () => {
  const ca = await testCA('Cluster CA');
  const other = await testCA('Other CA');
  const dbUri = 'spiffe://t.consul/ns/default/dc/dc1/svc/db';
  const leaf = await ca.issue('web', 'client', [], undefined, ['spiffe://t.consul/ns/default/dc/dc1/svc/web']);
  const idle = (signal?: AbortSignal) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
  const client = {
    json: (spec: { path: string; options?: { index?: number; signal?: AbortSignal } }) => {
      if (spec.options?.index) return idle(spec.options.signal);
      const data = spec.path.includes('/leaf/')
        ? { CertPEM: leaf.cert, PrivateKeyPEM: leaf.key, ServiceURI: 'spiffe://t.consul/ns/default/dc/dc1/svc/web' }
        : { TrustDomain: 't.consul', Roots: [{ ID: 'r', Name: 'r', RootCert: ca.cert, Active: true }] };
      return Promise.resolve({ data, meta: { index: 1 } });
    },
  } as unknown as ConsulClient;
  const svc = new ConnectService('web', client, silentLogger());
  svc.start();
  await svc.ready();
  const serve = async (cert: { cert: string; key: string }): Promise<tls.Server> => {
    const server = tls.createServer({ cert: cert.cert, key: cert.key }, (s) => { s.on('error', () => undefined); s.end(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return server;
  };
  const dial = async (cert: { cert: string; key: string }) => {
    const server = await serve(cert);
    try {
      const s = await svc.dial({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, certUri: dbUri }, 10_000);
      s.destroy();
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    } finally {
      server.close();
    }
  };
  try {
    assert.equal(await dial(await ca.issue('db', 'server', [], undefined, [dbUri])), 'ok');
    assert.notEqual(await dial(await other.issue('db', 'server', [], undefined, [dbUri])), 'ok', 'another CA\'s certificate is refused');
    assert.equal(await dial(await ca.issue('db', 'server', [], undefined, ['spiffe://t.consul/ns/default/dc/dc1/svc/cache'])),
      `peer certificate mismatch got spiffe://t.consul/ns/default/dc/dc1/svc/cache, want ${dbUri}`);
  } finally {
    svc.close();
  }
});
