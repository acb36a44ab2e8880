import assert from 'node:assert/strict';
import type { TLSSocket } from 'node:tls';
import { test } from 'node:test';
import type { ConsulClient } from '../../api/index.ts';
import { silentLogger } from '../../log.ts';
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
