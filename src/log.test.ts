// The logger never prints secrets: token fields and token-bearing headers are redacted; a reloaded
// log_level reaches the subsystems' children.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, reloadLogLevel, silentLogger } from './log.ts';

test('token fields and X-Consul-Token / Authorization headers are redacted', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', json: true, write: (l) => lines.push(l) });
  const secret = 'b3f1c7de-0000-4000-8000-5ec12e7';
  log.info({ token: secret, SecretID: secret, body: { Token: secret, BearerToken: secret } }, 'fields');
  log.info({ headers: { 'x-consul-token': secret, authorization: `Bearer ${secret}` } }, 'headers');
  log.child({ '@module': 'agent.http' }).warn({ req: { method: 'GET', headers: { 'x-consul-token': secret } } }, 'nested');
  assert.equal(lines.length, 3);
  for (const line of lines) {
    assert.ok(!line.includes(secret), line);
    assert.match(line, /<hidden>/);
  }
});

test('a reloaded log_level applies to children made before it; a silent logger stays silent', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', json: true, write: (l) => lines.push(l) });
  const http = log.child({ '@module': 'agent.http' });
  http.debug({}, 'before');
  reloadLogLevel(log, 'debug');
  http.debug({}, 'after');
  assert.deepEqual(lines.map((l) => JSON.parse(l)['@message']), ['after']);
  reloadLogLevel(log, 'error');
  http.warn({}, 'quiet');
  assert.equal(lines.length, 1);
  const silent = silentLogger();
  reloadLogLevel(silent, 'debug');
  assert.equal(silent.level, 'silent');
});

test('log_sublevels: a subsystem and the modules under it log at their own level; a reloaded log_level leaves them', () => {
  const lines: string[] = [];
  const root = createLogger({ level: 'info', json: true, write: (l) => lines.push(l), sublevels: { 'agent.http': 'debug', dns: 'error', 'agent.peering': 'trace' } });
  const logged = (fn: () => void): boolean => {
    lines.length = 0;
    fn();
    return lines.length === 1;
  };
  assert.equal(logged(() => root.child({ '@module': 'agent.http' }).debug('x')), true);
  assert.equal(logged(() => root.child({ '@module': 'agent.http.cache' }).debug('x')), true);
  assert.equal(logged(() => root.child({ '@module': 'agent.http' }).child({ conn: 1 }).debug('x')), true, 'a child of a child keeps its module\'s level');
  assert.equal(logged(() => root.child({ '@module': 'agent.httpx' }).debug('x')), false, 'not at a name boundary');
  assert.equal(logged(() => root.child({ '@module': 'agent.peering-syncer' }).info('x')), true, 'no shorter key is tried: the root level');
  assert.equal(logged(() => root.child({ '@module': 'dns' }).warn('x')), false);
  assert.equal(logged(() => root.child({ '@module': 'agent' }).debug('x')), false);
  const http = root.child({ '@module': 'agent.http' });
  reloadLogLevel(root, 'error');
  assert.equal(logged(() => http.debug('x')), true);
  assert.equal(logged(() => root.child({ '@module': 'agent' }).info('x')), false);
});
