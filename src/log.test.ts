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
