import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { decodeService } from './local/definition.ts';
import { ServiceManager } from './local/service-manager.ts';
import type { ServerCall } from './local/remote-target.ts';
import { remoteServiceConfig } from './client-service-config.ts';

const sidecar = decodeService({ Name: 'web-sidecar-proxy', ID: 'sc', Kind: 'connect-proxy', Port: 1, Proxy: { DestinationServiceName: 'web', DestinationServiceID: 'web' } }).service;

test('a client watch blocks on the server with the registration token and ends its call when stopped', async () => {
  const calls: { url: string; token: string; signal?: AbortSignal }[] = [];
  // A server that never answers a blocking read (it would hold it for the full wait).
  const call: ServerCall = (_method, url, token, _body, signal) => {
    calls.push({ url, token, signal });
    return new Promise(() => {});
  };
  const m = new ServiceManager({ source: remoteServiceConfig(call), clock: new ManualClock(), logger: silentLogger(), agentToken: () => '' });
  m.track(sidecar, 'tok', () => {});
  await new Promise((r) => setImmediate(r));
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.url, '/v1/internal/rpc/config/resolve-service?index=0&wait=5m');
  assert.equal(calls[0]!.token, 'tok');
  assert.equal(calls[0]!.signal?.aborted, false);
  m.stop(sidecar.ID);
  assert.equal(calls[0]!.signal?.aborted, true, 'the deregistered proxy\'s blocking call is closed, not left open for minutes');
});
