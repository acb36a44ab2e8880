// The agent's check API and anti-entropy against a real in-process agent on a ManualClock:
// TTL reports flip health/service?passing, TTL expiry, Consul's error texts, the deferred
// write-back of output-only changes, and drift repair of this node's catalog entries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../src/clock.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

let dev: DevAgent;
const clock = new ManualClock();

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`http://${dev.httpAddr}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json };
}

async function catalogCheck(id: string): Promise<any> {
  return (await call('GET', '/v1/health/node/test-node')).json.find((c: any) => c.CheckID === id);
}

async function eventually(what: string, fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

before(async () => {
  // random() = 0: no stagger, so deferred syncs and full syncs fire at their minimum delay.
  dev = await startDevAgent({ deps: { clock, random: () => 0 } });
});
after(async () => {
  await dev.stop();
});

describe('TTL checks', () => {
  test('pass and fail flip health/service?passing; the note becomes the output', async () => {
    await call('PUT', '/v1/agent/service/register', { Name: 'api', Check: { CheckID: 'api-ttl', TTL: '15s' } });
    assert.deepEqual((await call('GET', '/v1/health/service/api?passing')).json, []);
    assert.equal((await call('PUT', '/v1/agent/check/pass/api-ttl?note=all%20good')).status, 200);
    const up = (await call('GET', '/v1/health/service/api?passing')).json;
    assert.equal(up.length, 1);
    assert.equal(up[0].Checks.find((c: any) => c.CheckID === 'api-ttl').Output, 'all good');
    await call('PUT', '/v1/agent/check/fail/api-ttl');
    assert.deepEqual((await call('GET', '/v1/health/service/api?passing')).json, []);
    await call('PUT', '/v1/agent/check/update/api-ttl', { Status: 'warning', Output: 'slow' });
    const c = await catalogCheck('api-ttl');
    assert.equal(c.Status, 'warning');
    assert.equal(c.Output, 'slow');
  });

  test('a missed TTL turns the check critical with Consul\'s output', async () => {
    await call('PUT', '/v1/agent/check/pass/api-ttl?note=last words');
    clock.advance(15_001);
    await eventually('TTL expiry synced', async () => (await catalogCheck('api-ttl')).Status === 'critical');
    assert.equal((await catalogCheck('api-ttl')).Output, 'TTL expired (last output before timeout follows): last words');
    assert.equal((await call('GET', '/v1/agent/checks')).json['api-ttl'].Status, 'critical');
  });

  test('errors keep Consul texts', async () => {
    // An unknown ID is refused before anything else (Consul's vetCheckUpdateWithAuthorizer) ...
    const unknownText = 'Unknown check ID "nope". Ensure that the check ID is passed, not the check name.';
    for (const path of ['/v1/agent/check/pass/nope', '/v1/agent/check/fail/nope', '/v1/agent/check/deregister/nope']) {
      const r = await call('PUT', path);
      assert.deepEqual([r.status, r.text], [404, unknownText], path);
    }
    assert.deepEqual((await call('PUT', '/v1/agent/check/update/nope', { Status: 'passing' })).status, 404);
    // ... and a check that exists but is not a TTL check cannot be reported.
    assert.equal((await call('PUT', '/v1/agent/check/register', { Name: 'probe', TCP: '127.0.0.1:1', Interval: '1h' })).status, 200);
    const notTtl = await call('PUT', '/v1/agent/check/pass/probe');
    assert.equal(notTtl.status, 500);
    assert.equal(notTtl.text, 'CheckID "probe" does not have associated TTL');
    assert.equal((await call('PUT', '/v1/agent/check/deregister/probe')).status, 200);
    const badStatus = await call('PUT', '/v1/agent/check/update/api-ttl', { Status: 'fine' });
    assert.equal(badStatus.status, 400);
    assert.equal(badStatus.text, "Invalid check status: 'fine'");
    assert.equal((await call('PUT', '/v1/agent/check/register', { TTL: '10s' })).text, 'Missing check name');
    assert.equal((await call('PUT', '/v1/agent/check/register', { Name: 'x', TTL: '10s', Status: 'meh' })).text, 'Bad check status');
    assert.equal((await call('PUT', '/v1/agent/check/register', { Name: 'x' })).text, 'Invalid check: TTL must be > 0 for TTL checks');
    const noSvc = await call('PUT', '/v1/agent/check/register', { Name: 'x', TTL: '10s', ServiceID: 'ghost' });
    assert.equal(noSvc.status, 404);
    assert.equal(noSvc.text, 'ServiceID "ghost" does not exist');
    assert.equal((await call('GET', '/v1/agent/check/pass/api-ttl')).status, 405);
  });

  test('node-level check register, update and deregister reach the catalog', async () => {
    assert.equal((await call('PUT', '/v1/agent/check/register', { name: 'disk', ttl: '1m', status: 'passing', notes: 'n' })).status, 200);
    const c = await catalogCheck('disk');
    assert.equal(c.Status, 'passing');
    assert.equal(c.ServiceID, '');
    assert.equal(c.Notes, 'n');
    await call('PUT', '/v1/agent/check/deregister/disk');
    assert.equal(await catalogCheck('disk'), undefined);
  });

  test('an output-only change is written back after check_update_interval/2, a status change at once', async () => {
    await call('PUT', '/v1/agent/check/register', { Name: 'chatty', TTL: '1h' });
    await call('PUT', '/v1/agent/check/pass/chatty?note=one');
    assert.equal((await catalogCheck('chatty')).Output, 'one');
    await call('PUT', '/v1/agent/check/pass/chatty?note=two');
    assert.equal((await call('GET', '/v1/agent/checks')).json.chatty.Output, 'two');
    assert.equal((await catalogCheck('chatty')).Output, 'one');
    clock.advance(150_001);
    await eventually('deferred output', async () => (await catalogCheck('chatty')).Output === 'two');
    await call('PUT', '/v1/agent/check/fail/chatty?note=three');
    const c = await catalogCheck('chatty');
    assert.equal(c.Status, 'critical');
    assert.equal(c.Output, 'three');
  });
});

describe('anti-entropy', () => {
  test('a service deleted directly from the catalog comes back on the next full sync', async () => {
    await call('PUT', '/v1/agent/service/register', { Name: 'keep', Check: { TTL: '1h', Status: 'passing' } });
    await call('PUT', '/v1/catalog/deregister', { Node: 'test-node', ServiceID: 'keep' });
    assert.deepEqual((await call('GET', '/v1/catalog/service/keep')).json, []);
    clock.advance(60_001);
    await eventually('service restored', async () => (await call('GET', '/v1/catalog/service/keep')).json.length === 1);
    const checks = (await call('GET', '/v1/health/checks/keep')).json;
    assert.equal(checks[0].CheckID, 'service:keep');
    assert.equal(checks[0].Status, 'passing');
  });

  test('a changed catalog entry is restored and foreign entries on this node are removed', async () => {
    await call('PUT', '/v1/catalog/register', {
      Node: 'test-node', Address: '127.0.0.1', Service: { Service: 'keep', Port: 9999 },
      Checks: [{ CheckID: 'foreign-check', Name: 'f', Status: 'passing' }],
    });
    await call('PUT', '/v1/catalog/register', { Node: 'test-node', Address: '127.0.0.1', Service: { Service: 'intruder' } });
    await call('PUT', '/v1/catalog/register', { Node: 'other-node', Address: '10.0.0.9', Service: { Service: 'intruder' } });
    assert.equal((await call('GET', '/v1/catalog/service/intruder')).json.length, 2);
    clock.advance(120_001);
    await eventually('drift repaired', async () => (await call('GET', '/v1/catalog/service/intruder')).json.length === 1);
    assert.equal((await call('GET', '/v1/catalog/service/intruder')).json[0].Node, 'other-node');
    assert.equal((await call('GET', '/v1/catalog/service/keep')).json[0].ServicePort, 0);
    assert.equal(await catalogCheck('foreign-check'), undefined);
    assert.ok(await catalogCheck('serfHealth'));
    assert.ok((await call('GET', '/v1/catalog/service/consul')).json.length === 1);
  });

  test('a deleted node is registered again with its services', async () => {
    await call('PUT', '/v1/catalog/deregister', { Node: 'test-node' });
    assert.deepEqual((await call('GET', '/v1/catalog/service/keep')).json, []);
    clock.advance(120_001);
    await eventually('node restored', async () => (await call('GET', '/v1/catalog/service/keep')).json.length === 1);
    assert.equal((await catalogCheck('serfHealth')).Status, 'passing');
  });
});
