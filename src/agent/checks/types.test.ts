// Check definition validation (Consul's texts), kind selection, output caps, the minimum
// interval and the initial status report.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../clock.ts';
import { createLogger, silentLogger } from '../../log.ts';
import { createCheckRunner } from './runner.ts';
import { harness } from './test-support.ts';
import { checkKind, outputMaxSize, validateCheckType } from './types.ts';

test('validateCheckType returns Consul\'s texts', () => {
  assert.equal(validateCheckType({ HTTP: 'http://x', Interval: 1000, TTL: 1000 }), 'Interval and TTL cannot both be specified');
  assert.equal(validateCheckType({ HTTP: 'http://x' }), 'Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks');
  assert.equal(validateCheckType({ TCP: 'x:1', Interval: 1000, AliasService: 'web' }), 'Interval cannot be set for Alias checks');
  assert.equal(validateCheckType({ AliasService: 'web', TTL: 1000 }), 'TTL must be not be set for Alias checks');
  assert.equal(validateCheckType({ Name: 'nothing' }), 'TTL must be > 0 for TTL checks');
  assert.equal(validateCheckType({ TTL: 1000, OutputMaxSize: -1 }), 'MaxOutputMaxSize must be positive');
  assert.equal(validateCheckType({ TTL: 1000, FailuresBeforeWarning: 3, FailuresBeforeCritical: 2 }),
    "FailuresBeforeWarning can't be higher than FailuresBeforeCritical");
  assert.equal(validateCheckType({ Args: ['true'], Interval: 1000 }), undefined);
  assert.equal(validateCheckType({ AliasNode: 'n1' }), undefined);
});

test('checkKind follows the agent\'s order and needs an interval for polled kinds', () => {
  assert.equal(checkKind({ TTL: 5 }), 'ttl');
  assert.equal(checkKind({ HTTP: 'http://x', TCP: 'x:1', Interval: 1 }), 'http');
  assert.equal(checkKind({ ScriptArgs: ['x'], DockerContainerID: 'c', Interval: 1 }), 'docker');
  assert.equal(checkKind({ ScriptArgs: ['x'], Interval: 1 }), 'script');
  assert.equal(checkKind({ H2PING: 'x:1', Interval: 1 }), 'h2ping');
  assert.equal(checkKind({ OSService: 'sshd', Interval: 1 }), 'os_service');
  assert.equal(checkKind({ AliasService: 'web' }), 'alias');
  assert.equal(checkKind({ HTTP: 'http://x' }), undefined);
});

test('outputMaxSize: agent cap (default 4096) lowered by the check\'s own', () => {
  assert.equal(outputMaxSize({}), 4096);
  assert.equal(outputMaxSize({ OutputMaxSize: 100 }), 100);
  assert.equal(outputMaxSize({ OutputMaxSize: 10_000 }), 4096);
  assert.equal(outputMaxSize({ OutputMaxSize: 10_000 }, 20_000), 10_000);
});

test('createCheckRunner refuses invalid definitions and disabled scripts with Consul\'s text', () => {
  const deps = { clock: new ManualClock(), logger: silentLogger(), update: () => {} };
  assert.throws(() => createCheckRunner({ HTTP: 'http://x' }, deps), /Interval must be > 0/);
  assert.throws(() => createCheckRunner({ Args: ['true'], Interval: 1000 }, deps),
    { name: 'BadRequestError', message: "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true" });
  assert.throws(() => createCheckRunner({ AliasService: 'web' }, deps), /aliasSource/);
});

test('an interval below 1s is raised to 1s with a warning', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', json: true, write: (l) => lines.push(l) });
  const r = createCheckRunner({ CheckID: 'c1', TCP: '127.0.0.1:1', Interval: 10 }, { clock: new ManualClock(), logger, update: () => {} });
  assert.equal(r.intervalMs, 1000);
  const rec = JSON.parse(lines[0]) as Record<string, unknown>;
  assert.equal(rec['@message'], 'check has interval below minimum');
  assert.equal(rec['@module'], 'agent.checks');
  assert.equal(rec.check, 'c1');
  assert.equal(rec.minimum_interval, '1s');
  const fine = createCheckRunner({ TCP: '127.0.0.1:1', Interval: 2500 }, { clock: new ManualClock(), logger, update: () => {} });
  assert.equal(fine.intervalMs, 2500);
  assert.equal(lines.length, 1);
});

test('the initial status is reported before the first run: def.Status, default critical', async () => {
  const a = await harness({ TCP: '127.0.0.1:1', Interval: 1000 });
  assert.deepEqual(a.reports, [['critical', '']]);
  const b = await harness({ TCP: '127.0.0.1:1', Interval: 1000, Status: 'passing' });
  assert.deepEqual(b.reports, [['passing', '']]);
  a.runner.stop();
  b.runner.stop();
});

test('the first run is staggered randomly within one interval', async () => {
  const clock = new ManualClock();
  const seen: string[] = [];
  const r = createCheckRunner({ TCP: '127.0.0.1:1', Interval: 10_000 }, {
    clock, logger: silentLogger(), random: () => 0.5, update: (_s, o) => seen.push(o),
  });
  r.start();
  clock.advance(4_999);
  await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(seen, ['']);
  clock.advance(1);
  while (seen.length < 2) await new Promise((res) => setTimeout(res, 5));
  assert.match(seen[1], /^dial tcp 127\.0\.0\.1:1: connect: connection refused$/);
  r.stop();
});
