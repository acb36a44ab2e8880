import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../log.ts';
import { adminAnswer, proxyStats, startEnvoyAdmin, statsPrometheus, statsText, type EnvoyState } from './envoy-admin.ts';

const stats = () => [{ name: 'server.live', type: 'gauge' as const, value: 1 }];

test('/ready answers the state: 200 LIVE, 503 otherwise', () => {
  for (const [state, status] of [['LIVE', 200], ['INITIALIZING', 503], ['DRAINING', 503]] as const) {
    assert.deepEqual(adminAnswer('GET', '/ready', { state: () => state, stats }), { status, type: 'text/plain; charset=UTF-8', body: `${state}\n` });
  }
});

test('mutating paths want POST, unknown paths are Envoy\'s 404, a restricted listener serves its paths only', () => {
  const deps = { state: () => 'LIVE' as const, stats };
  assert.deepEqual(adminAnswer('GET', '/quitquitquit', deps).body, 'Method GET not allowed, POST required.');
  assert.equal(adminAnswer('GET', '/quitquitquit', deps).status, 405);
  assert.deepEqual(adminAnswer('POST', '/quitquitquit', deps), { status: 200, type: 'text/plain; charset=UTF-8', body: 'OK\n' });
  const missing = adminAnswer('GET', '/clusters', deps);
  assert.equal(missing.status, 404);
  assert.match(missing.body, /^invalid path\. admin commands are:\n {2}\/quitquitquit: exit the server\n/);
  assert.equal(adminAnswer('GET', '/stats?format=text', deps).status, 200);
  assert.equal(adminAnswer('POST', '/quitquitquit', { ...deps, paths: ['/ready'] }).status, 404);
});

test('stats print in Envoy\'s text and Prometheus forms; the cert expiry is whole days ahead', () => {
  const s = proxyStats({ state: 'INITIALIZING', uptimeMs: 61_500, listeners: 3, leafValidBefore: '2026-01-04T12:00:00Z', nowMs: Date.parse('2026-01-01T13:00:00Z') });
  assert.equal(statsText(s), [
    'listener_manager.total_listeners_active: 3', 'server.days_until_first_cert_expiring: 2', 'server.live: 0', 'server.state: 3', 'server.uptime: 61', '',
  ].join('\n'));
  assert.match(statsPrometheus(s), /^# TYPE envoy_listener_manager_total_listeners_active gauge\nenvoy_listener_manager_total_listeners_active 3\n/);
  const deps = { state: () => 'LIVE' as const, stats: () => s };
  assert.equal(adminAnswer('GET', '/stats?filter=^server%5C.(live|uptime)$', deps).body, 'server.live: 0\nserver.uptime: 61\n');
  assert.deepEqual(JSON.parse(adminAnswer('GET', '/stats?format=json&filter=live', deps).body), { stats: [{ name: 'server.live', value: 0 }] });
  assert.equal(adminAnswer('GET', '/stats?format=prometheus&filter=uptime', deps).body, '# TYPE envoy_server_uptime gauge\nenvoy_server_uptime 61\n');
  assert.equal(adminAnswer('GET', '/stats?filter=(', deps).status, 400);
  assert.equal(proxyStats({ state: 'LIVE', uptimeMs: 0, listeners: 0, nowMs: 0 }).some((x) => x.name.includes('cert')), false);
});

test('the endpoint answers over HTTP and calls quit once a POST /quitquitquit is answered', async () => {
  let state: EnvoyState = 'INITIALIZING';
  let quits = 0;
  const admin = await startEnvoyAdmin('127.0.0.1', 0, { state: () => state, stats, quit: () => { quits++; state = 'DRAINING'; }, log: silentLogger() });
  try {
    const base = `http://${admin.address}`;
    assert.equal((await fetch(`${base}/ready`)).status, 503);
    state = 'LIVE';
    const live = await fetch(`${base}/ready`);
    assert.equal(live.status, 200);
    assert.equal(await live.text(), 'LIVE\n');
    assert.equal((await fetch(`${base}/quitquitquit`)).status, 405);
    assert.equal(quits, 0);
    assert.equal(await (await fetch(`${base}/quitquitquit`, { method: 'POST' })).text(), 'OK\n');
    assert.equal(quits, 1);
    assert.equal((await fetch(`${base}/ready`)).status, 503);
  } finally {
    await admin.close();
  }
});
