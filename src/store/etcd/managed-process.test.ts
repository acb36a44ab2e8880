// The supervised etcd process's stderr: its last lines are at hand while it runs (the managed
// store logs them while the member waits to join) and are logged when it exits.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { EtcdProcess } from './managed-process.ts';

/** A stand-in `etcd`: writes `lines` to stderr, then sleeps, or exits 1 when `exit`. */
function fakeEtcd(dir: string, lines: string[], exit: boolean): string {
  const bin = join(dir, 'etcd');
  writeFileSync(bin, `#!/bin/sh\n${lines.map((l) => `echo '${l}' >&2`).join('\n')}\n${exit ? 'exit 1' : 'exec sleep 30'}\n`);
  chmodSync(bin, 0o755);
  return bin;
}

function recorder(): { warns: { obj: Record<string, unknown>; msg: string }[]; logger: { info(): void; warn(obj: object, msg: string): void; error(): void } } {
  const warns: { obj: Record<string, unknown>; msg: string }[] = [];
  return { warns, logger: { info() {}, warn: (obj, msg) => { warns.push({ obj: obj as Record<string, unknown>, msg }); }, error() {} } };
}

function member(dir: string, binary: string, logger: ReturnType<typeof recorder>['logger']): EtcdProcess {
  return new EtcdProcess({
    binary, name: 's1', dir: join(dir, 'data'), clientUrl: 'http://127.0.0.1:1', peerUrl: 'http://127.0.0.1:2',
    listenClientUrl: 'http://127.0.0.1:1', listenPeerUrl: 'http://127.0.0.1:2', logger,
  });
}

const spec = { initialCluster: 's1=http://127.0.0.1:2', state: 'new' as const, token: 't' };

test('a running member\'s last stderr lines are at hand', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-proc-'));
  const proc = member(dir, fakeEtcd(dir, ['{"msg":"one"}', '{"msg":"two"}', '{"msg":"rejected connection"}', '{"msg":"failed to reach the peer URL"}'], false), recorder().logger);
  try {
    assert.deepEqual(proc.recentOutput(), []);
    proc.start(spec);
    for (let i = 0; i < 100 && proc.recentOutput().length < 3; i++) await sleep(50);
    assert.deepEqual(proc.recentOutput(), ['{"msg":"two"}', '{"msg":"rejected connection"}', '{"msg":"failed to reach the peer URL"}']);
    assert.deepEqual(proc.recentOutput(1), ['{"msg":"failed to reach the peer URL"}']);
  } finally {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a member that exits is logged with its last stderr lines and restarted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-proc-'));
  const rec = recorder();
  const proc = member(dir, fakeEtcd(dir, ['{"msg":"listen tcp 127.0.0.1:2: bind: address already in use"}'], true), rec.logger);
  try {
    proc.start(spec);
    for (let i = 0; i < 100 && rec.warns.length === 0; i++) await sleep(50);
    assert.equal(rec.warns[0]?.msg, 'etcd member exited; restarting');
    assert.deepEqual(rec.warns[0].obj.stderr, ['{"msg":"listen tcp 127.0.0.1:2: bind: address already in use"}']);
  } finally {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
