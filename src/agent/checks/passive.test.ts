// TTL, alias, OS-service and docker checks: TTL expiry on a ManualClock, alias worst-status
// mirroring through a fake source, and the command-driven kinds through a fake command runner.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../clock.ts';
import { silentLogger } from '../../log.ts';
import type { AliasCheckInfo, AliasSource } from './alias.ts';
import type { CommandRunner } from './command.ts';
import { createTailBuffer } from './output.ts';
import { createCheckRunner, isTtlRunner } from './runner.ts';
import { harness } from './test-support.ts';

test('TTL: reports re-arm the TTL; expiry is critical with the last output', async () => {
  const h = await harness({ CheckID: 't', TTL: 10_000, OutputMaxSize: 8 });
  assert.ok(isTtlRunner(h.runner));
  const ttl = h.runner;
  h.manual!.advance(9_000);
  assert.equal(ttl.pass('all good!!'), 'all good ... (captured 8 of 10 bytes)');
  h.manual!.advance(9_000);
  assert.equal(h.reports.length, 2, 'the pass re-armed the TTL');
  h.manual!.advance(1_000);
  assert.deepEqual(h.reports.at(-1), ['critical', 'TTL expired (last output before timeout follows): all good ... (captured 8 of 10 bytes)']);
  ttl.warn('slow');
  assert.deepEqual(h.reports.at(-1), ['warning', 'slow']);
  ttl.update('critical', 'down');
  assert.deepEqual(h.reports.at(-1), ['critical', 'down']);
  ttl.stop();
  h.manual!.advance(60_000);
  assert.equal(h.reports.length, 5, 'a stopped TTL never expires');
});

test('TTL: expiry without any report says just "TTL expired"', async () => {
  const h = await harness({ TTL: 5000 });
  h.manual!.advance(5000);
  assert.deepEqual(h.reports, [['critical', ''], ['critical', 'TTL expired']]);
  h.runner.stop();
});

function fakeSource(checks: AliasCheckInfo[], exists = true): AliasSource & { fire(): void } {
  let listener: (() => void) | undefined;
  return {
    checks: () => checks,
    serviceExists: () => exists,
    subscribe: (_t, fn) => { listener = fn; return () => { listener = undefined; }; },
    fire: () => listener?.(),
  };
}

test('alias: worst status of the service and node checks wins, re-evaluated on change', async () => {
  const checks: AliasCheckInfo[] = [
    { Name: 'svc http', ServiceID: 'web', Status: 'passing', Output: '' },
    { Name: 'other', ServiceID: 'db', Status: 'critical', Output: 'ignored' },
    { Name: 'node disk', ServiceID: '', Status: 'passing', Output: '' },
  ];
  const source = fakeSource(checks);
  const h = await harness({ AliasService: 'web' }, { aliasSource: source });
  assert.deepEqual(h.reports.at(-1), ['passing', 'All checks passing.']);
  checks[2].Status = 'warning';
  checks[2].Output = 'disk 91%';
  source.fire();
  assert.deepEqual(h.reports.at(-1), ['warning', 'Aliased check "node disk" failing: disk 91%']);
  checks[0].Status = 'critical';
  checks[0].Output = 'HTTP GET …: 500';
  source.fire();
  assert.deepEqual(h.reports.at(-1), ['critical', 'Aliased check "svc http" failing: HTTP GET …: 500']);
  h.runner.stop();
  source.fire();
  assert.equal(h.reports.length, 4, 'no updates after stop');
});

test('alias: no checks is passing when the service exists, critical when it does not', async () => {
  const yes = await harness({ AliasService: 'web' }, { aliasSource: fakeSource([]) });
  assert.deepEqual(yes.reports.at(-1), ['passing', 'No checks found.']);
  yes.runner.stop();
  const no = await harness({ AliasService: 'web', AliasNode: 'n2' }, { aliasSource: fakeSource([], false) });
  assert.deepEqual(no.reports.at(-1), ['critical', 'Service web could not be found on node n2']);
  no.runner.stop();
});

test('alias: a failing source is critical, and the state is re-read every minute', async () => {
  let fail = true;
  const source: AliasSource = {
    checks: () => { if (fail) throw new Error('rpc error'); return []; },
    serviceExists: () => true,
    subscribe: () => () => {},
  };
  const h = await harness({ AliasNode: 'n2' }, { aliasSource: source });
  assert.deepEqual(h.reports.at(-1), ['critical', 'Failure checking aliased node or service: rpc error']);
  fail = false;
  h.manual!.advance(60_000);
  assert.deepEqual(h.reports.at(-1), ['passing', 'No checks found.']);
  h.runner.stop();
});

function fakeCommands(answer: { code: number | null; out: string; timedOut?: boolean }, calls: string[][]): CommandRunner {
  return async (file, args, opts) => {
    calls.push([file, ...args]);
    const output = createTailBuffer(opts.maxOutput);
    output.write(Buffer.from(answer.out));
    return { exitCode: answer.code, output, timedOut: answer.timedOut ?? false };
  };
}

test('OS service: systemctl is-active decides passing / critical / warning', async () => {
  const cases: Array<[{ code: number | null; out: string; timedOut?: boolean }, string, string]> = [
    [{ code: 0, out: 'active\n' }, 'passing', 'Service "nginx.service" is healthy'],
    [{ code: 3, out: 'inactive\n' }, 'critical', 'service status: inactive - OS Service unhealthy'],
    [{ code: 3, out: 'failed\n' }, 'critical', 'service status: failed - OS Service unhealthy'],
    [{ code: 3, out: 'activating\n' }, 'warning', 'service status: activating'],
    [{ code: null, out: '', timedOut: true }, 'critical', 'Timed out (30s) running check'],
  ];
  for (const [answer, status, output] of cases) {
    const calls: string[][] = [];
    const h = await harness({ OSService: 'nginx.service', Interval: 1000 }, { commandRunner: fakeCommands(answer, calls) });
    assert.deepEqual(await h.runOnce(), [status, output]);
    assert.deepEqual(calls, [['systemctl', 'is-active', 'nginx.service']]);
    h.runner.stop();
  }
});

test('docker: docker exec with script semantics; daemon errors are critical', async () => {
  const calls: string[][] = [];
  const ok = await harness({ DockerContainerID: 'c1', Args: ['/bin/check', '-v'], Interval: 1000 },
    { enableScriptChecks: true, commandRunner: fakeCommands({ code: 1, out: 'degraded' }, calls) });
  assert.deepEqual(await ok.runOnce(), ['warning', 'degraded']);
  assert.deepEqual(calls[0], ['docker', 'exec', 'c1', '/bin/check', '-v']);
  ok.runner.stop();
  const gone = await harness({ DockerContainerID: 'c2', Script: 'true', Shell: '/bin/bash', Interval: 1000 },
    { enableScriptChecks: true, commandRunner: fakeCommands({ code: 1, out: 'Error response from daemon: No such container: c2\n' }, calls) });
  assert.deepEqual(await gone.runOnce(), ['critical', 'Error response from daemon: No such container: c2']);
  assert.deepEqual(calls[1], ['docker', 'exec', 'c2', '/bin/bash', '-c', 'true']);
  gone.runner.stop();
  assert.throws(() => createCheckRunner({ DockerContainerID: 'c', Args: ['x'], Interval: 1000 },
    { clock: new ManualClock(), logger: silentLogger(), update: () => {} }), /Scripts are disabled/);
});
