import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.ts';
import { silentLogger } from '../../log.ts';
import { PermissionDeniedError } from '../../errors.ts';
import type { ServiceConfigResponse } from '../../api/service-config-types.ts';
import { decodeService } from './definition.ts';
import { ServiceManager, type ServiceConfigSource } from './service-manager.ts';

const sidecar = decodeService({ Name: 'web-sidecar-proxy', ID: 'sc', Kind: 'connect-proxy', Port: 1, Proxy: { DestinationServiceName: 'web', DestinationServiceID: 'web' } }).service;
const answer = (protocol: string): ServiceConfigResponse => ({ ProxyConfig: { protocol }, MeshGateway: {}, Expose: {}, TransparentProxy: {}, Mode: '' });

// A source answering from a queue: each blocking call waits for the next pushed answer.
function queued() {
  const waiting: ((v: { value: ServiceConfigResponse; index: number }) => void)[] = [];
  const calls: { token: string; index: number }[] = [];
  const source: ServiceConfigSource = {
    resolve: (_req, token, index) => {
      calls.push({ token, index });
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
  return { source, calls, push: (v: ServiceConfigResponse, index: number) => waiting.shift()!({ value: v, index }) };
}

test('prime waits for the first answer; later answers reach the tracker; the agent token stands in for none', async () => {
  const q = queued();
  const m = new ServiceManager({ source: q.source, clock: new ManualClock(), logger: silentLogger(), agentToken: () => 'agent-tok' });
  const primed = m.prime(sidecar, '');
  q.push(answer('http'), 5);
  await primed;
  const seen: string[] = [];
  assert.deepEqual(m.track(sidecar, '', (d) => seen.push(String(d.ProxyConfig?.protocol)))?.ProxyConfig, { protocol: 'http' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(q.calls, [{ token: 'agent-tok', index: 0 }, { token: 'agent-tok', index: 5 }], 'then it blocks from the answer\'s index');
  q.push(answer('grpc'), 7);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['grpc']);
  m.stopAll();
  assert.equal(m.track(decodeService({ Name: 'plain', Port: 80 }).service, '', () => {}), undefined, 'typical services are not watched');
});

test('a failed first fetch fails the registration with Consul\'s text; a permission denial stays a 403', async () => {
  const denied: ServiceConfigSource = { resolve: async () => { throw new PermissionDeniedError('Permission denied: token lacks service:read on "web"'); } };
  const m = new ServiceManager({ source: denied, clock: new ManualClock(), logger: silentLogger(), agentToken: () => '' });
  await assert.rejects(m.prime(sidecar, 't'), (err: Error & { code?: string }) => {
    assert.ok(err instanceof PermissionDeniedError);
    assert.equal(err.message, 'could not retrieve initial service_defaults config for service "sc": Permission denied: token lacks service:read on "web"');
    return true;
  });
  const down: ServiceConfigSource = { resolve: async () => { throw new Error('No known Consul servers'); } };
  const m2 = new ServiceManager({ source: down, clock: new ManualClock(), logger: silentLogger(), agentToken: () => '' });
  await assert.rejects(m2.prime(sidecar, 't'), { name: 'InternalError', message: 'could not retrieve initial service_defaults config for service "sc": No known Consul servers' });
});

test('a watch started again for the same request and token (a reload) starts from the last answer', async () => {
  const q = queued();
  const m = new ServiceManager({ source: q.source, clock: new ManualClock(), logger: silentLogger(), agentToken: () => '' });
  assert.equal(m.track(sidecar, 't', () => {}), undefined, 'nothing known before the first answer');
  q.push(answer('http'), 3);
  await new Promise((r) => setImmediate(r));
  m.stop(sidecar.ID);
  assert.deepEqual(m.track(sidecar, 't', () => {})?.ProxyConfig, { protocol: 'http' });
  assert.equal(m.track(sidecar, 'other', () => {}), undefined, 'answers are kept per token');
  m.stopAll();
});

test('a failing watch retries after 1 s three times, then waits twice as long each time, up to a minute', async () => {
  let calls = 0;
  const failing: ServiceConfigSource = { resolve: async () => { calls++; throw new PermissionDeniedError('Permission denied'); } };
  const clock = new ManualClock();
  const m = new ServiceManager({ source: failing, clock, logger: silentLogger(), agentToken: () => '' });
  const flush = () => new Promise((r) => setImmediate(r));
  m.track(sidecar, 't', () => {});
  await flush();
  const seen: number[] = [];
  for (let s = 1; s <= 16; s++) {
    clock.advance(1000);
    await flush();
    seen.push(calls);
  }
  // Calls at 0 s; retries at 1, 2, 3 s; then 2 s (5), 4 s (9), 8 s (17) later.
  assert.deepEqual(seen, [2, 3, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6]);
  m.stopAll();
  clock.advance(120_000);
  await flush();
  assert.equal(calls, 6, 'a stopped watch makes no more calls');
});

test('a registration waiting for its first answer fails when its watch is stopped instead of waiting forever', async () => {
  const q = queued();
  const m = new ServiceManager({ source: q.source, clock: new ManualClock(), logger: silentLogger(), agentToken: () => '' });
  let outcome = 'pending';
  const primed = m.prime(sidecar, 't').then(() => { outcome = 'ok'; }, (err: Error) => { outcome = err.message; });
  await new Promise((r) => setImmediate(r));
  // A second registration of the same ID with another upstream replaces the watch.
  const other = decodeService({ ...sidecar, Proxy: { ...sidecar.Proxy, Upstreams: [{ DestinationName: 'db', LocalBindPort: 9191 }] } }).service;
  const second = m.prime(other, 't');
  await new Promise((r) => setImmediate(r));
  assert.equal(outcome, 'could not retrieve initial service_defaults config for service "sc": context canceled');
  await primed;
  q.push(answer('http'), 2);
  q.push(answer('http'), 2);
  await second;
  m.stopAll();
});
