// The supervised etcd process's stderr: its last lines are at hand while it runs (the managed
// store logs them while the member waits to join) and are logged when it exits.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { EtcdProcess, etcdLine } from './managed-process.ts';

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

test('etcd\'s JSON lines are shortened to level, message and fields; other lines are kept', () => {
  assert.equal(etcdLine('{"level":"warn","ts":"x","caller":"y","msg":"rejected connection","remote-addr":"127.0.0.1:5","error":"tls: bad certificate"}'),
    'warn rejected connection remote-addr=127.0.0.1:5 error=tls: bad certificate');
  assert.equal(etcdLine('{"level":"warn","msg":"m","n":3,"peers":["a"]}'), 'warn m n=3 peers=["a"]');
  assert.equal(etcdLine('plain text'), 'plain text');
  assert.equal(etcdLine('{not json'), '{not json');
});

test('a running member\'s last stderr lines are at hand', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-proc-'));
  const proc = member(dir, fakeEtcd(dir, ['{"msg":"one"}', '{"msg":"two"}', '{"msg":"rejected connection"}', '{"msg":"failed to reach the peer URL"}'], false), recorder().logger);
  try {
    assert.equal(proc.recentOutput(), '');
    proc.start(spec);
    for (let i = 0; i < 100 && !proc.recentOutput().includes('peer URL'); i++) await sleep(50);
    assert.equal(proc.recentOutput(), 'two | rejected connection | failed to reach the peer URL');
    assert.equal(proc.recentOutput(1), 'failed to reach the peer URL');
  } finally {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a member that exits is logged with its last stderr lines and restarted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-proc-'));
  const rec = recorder();
  const fatal = '{"level":"fatal","ts":"2026-11-26T21:46:21.990Z","caller":"etcdmain/etcd.go:271","msg":"discovery failed","error":"listen tcp 127.0.0.1:2: bind: address already in use","stacktrace":"main.main"}';
  const proc = member(dir, fakeEtcd(dir, [fatal], true), rec.logger);
  try {
    proc.start(spec);
    for (let i = 0; i < 100 && rec.warns.length === 0; i++) await sleep(50);
    assert.equal(rec.warns[0]?.msg, 'etcd member exited; restarting');
    assert.equal(rec.warns[0].obj.stderr, 'fatal discovery failed error=listen tcp 127.0.0.1:2: bind: address already in use');
  } finally {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
