import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ManualClock, systemClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { ConfigFileWatcher } from './config-watcher.ts';
import { changedTlsFields, watchedFiles } from './auto-reload.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { TlsProtocolConfig } from './config/tls.ts';
import { tmpDir } from '../test-tmp-dir.ts';

function tmp(): string {
  return tmpDir('proconsul-watch-');
}

// A distinct modification time, so a rewrite within one clock tick still differs.
function touch(file: string, data: string, seconds: number): void {
  fs.writeFileSync(file, data);
  fs.utimesSync(file, seconds, seconds);
}

test('changes within the coalescing interval are handed over once, together', () => {
  const dir = tmp();
  const other = tmp();
  const file = path.join(other, 'agent.hcl');
  touch(file, 'log_level = "info"', 1000);
  const clock = new ManualClock();
  const calls: string[][] = [];
  const w = new ConfigFileWatcher([dir, file], { clock, logger: silentLogger(), onChange: (f) => calls.push(f.sort()), reconcileMs: 60_000 });
  w.start();
  try {
    touch(file, 'log_level = "debug"', 2000);
    fs.writeFileSync(path.join(dir, 'web.json'), '{}');
    fs.utimesSync(dir, 3000, 3000);
    w.reconcile();
    clock.advance(999);
    assert.deepEqual(calls, []);
    clock.advance(1);
    assert.deepEqual(calls, [[dir, file].sort()]);
    // Nothing changed since: the next round hands over nothing.
    w.reconcile();
    clock.advance(5000);
    assert.equal(calls.length, 1);
  } finally {
    w.stop();
  }
});

test('a file replaced by rename (as editors save) is reported through the directory watch', async () => {
  const dir = tmp();
  const file = path.join(dir, 'agent.json');
  fs.writeFileSync(file, '{}');
  fs.writeFileSync(path.join(dir, 'unrelated.txt'), 'x');
  const seen: string[][] = [];
  let resolve!: () => void;
  const changed = new Promise<void>((r) => { resolve = r; });
  const w = new ConfigFileWatcher([file], {
    clock: systemClock, logger: silentLogger(), coalesceMs: 20, reconcileMs: 3_600_000,
    onChange: (f) => {
      seen.push(f);
      resolve();
    },
  });
  w.start();
  try {
    const tmpFile = path.join(dir, '.agent.json.swp');
    fs.writeFileSync(tmpFile, '{"log_level":"debug"}');
    fs.renameSync(tmpFile, file);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([changed, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no change reported')), 10_000); })]);
    clearTimeout(timer);
    assert.deepEqual(seen[0], [file]);
  } finally {
    w.stop();
  }
});

test('replace() moves the watch to a renamed TLS file', () => {
  const dir = tmp();
  const a = path.join(dir, 'a.pem');
  const b = path.join(dir, 'b.pem');
  touch(a, 'a', 1000);
  touch(b, 'b', 1000);
  const clock = new ManualClock();
  const calls: string[][] = [];
  const w = new ConfigFileWatcher([a], { clock, logger: silentLogger(), onChange: (f) => calls.push(f), reconcileMs: 60_000 });
  w.start();
  try {
    w.replace(a, b);
    assert.deepEqual(w.paths(), [b]);
    touch(a, 'a2', 2000);
    w.reconcile();
    clock.advance(2000);
    assert.deepEqual(calls, []);
    touch(b, 'b2', 3000);
    w.reconcile();
    clock.advance(2000);
    assert.deepEqual(calls, [[b]]);
  } finally {
    w.stop();
  }
});

test('a path that goes away and comes back counts as changed when it returns', () => {
  const dir = tmp();
  const file = path.join(dir, 'agent.hcl');
  touch(file, 'x', 1000);
  const clock = new ManualClock();
  const calls: string[][] = [];
  const w = new ConfigFileWatcher([file], { clock, logger: silentLogger(), onChange: (f) => calls.push(f), reconcileMs: 60_000 });
  w.start();
  try {
    fs.rmSync(file);
    w.reconcile();
    clock.advance(2000);
    assert.deepEqual(calls, []);
    touch(file, 'y', 2000);
    w.reconcile();
    clock.advance(2000);
    assert.deepEqual(calls, [[file]]);
  } finally {
    w.stop();
  }
});

test('auto-reload watches the config paths and every TLS key pair, once each', () => {
  const proto = (certFile: string, keyFile: string): TlsProtocolConfig => ({
    verifyIncoming: false, caFile: '/ca.pem', caPath: '', certFile, keyFile, tlsMinVersion: 'TLS_AUTO', cipherSuites: null,
    verifyOutgoing: false, verifyServerHostname: false, useAutoCert: false,
  });
  const config = {
    sources: ['/etc/consul.d/a.hcl'], configPaths: ['/etc/consul.d'],
    tls: { internalRpc: proto('/tls/c.pem', '/tls/k.pem'), https: proto('/tls/c.pem', '/tls/k.pem'), grpc: proto('', '') },
  } as unknown as RuntimeConfig;
  assert.deepEqual(watchedFiles(config), ['/etc/consul.d', '/tls/k.pem', '/tls/c.pem']);
  const prev = proto('/tls/c.pem', '/tls/k.pem');
  assert.deepEqual(changedTlsFields(prev, proto('/tls/c2.pem', '/tls/k2.pem')), []);
  assert.deepEqual(changedTlsFields(prev, { ...prev, verifyIncoming: true, caFile: '/ca2.pem' }), ['verifyIncoming', 'caFile']);
});

test('a watched directory removed and made again is watched again: an in-place edit inside it is reported', async () => {
  const dir = path.join(tmp(), 'consul.d');
  fs.mkdirSync(dir);
  const file = path.join(dir, 'agent.json');
  fs.writeFileSync(file, '{}');
  const seen: string[][] = [];
  let wake: (() => void) | undefined;
  const next = (): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no change reported')), 10_000);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const w = new ConfigFileWatcher([dir], {
    clock: systemClock, logger: silentLogger(), coalesceMs: 20, reconcileMs: 3_600_000,
    onChange: (f) => {
      seen.push(f);
      wake?.();
    },
  });
  w.start();
  try {
    // Replaced as a whole (a deploy tool writing a fresh directory): the reconcile round sees a new directory.
    let changed = next();
    fs.rmSync(dir, { recursive: true });
    fs.mkdirSync(dir);
    fs.writeFileSync(file, '{}');
    w.reconcile();
    await changed;
    // Appended in place: no entry of the directory is added or renamed, only the watch can see it.
    changed = next();
    fs.appendFileSync(file, '\n');
    await changed;
    assert.equal(seen.length, 2);
  } finally {
    w.stop();
  }
});

test('a config file behind symbolic links (a Kubernetes ConfigMap mount) is followed, not refused: a swapped ..data link counts', () => {
  const dir = tmp();
  fs.mkdirSync(path.join(dir, '..v1'));
  fs.writeFileSync(path.join(dir, '..v1', 'agent.hcl'), 'log_level = "info"');
  fs.symlinkSync('..v1', path.join(dir, '..data'));
  const file = path.join(dir, 'agent.hcl');
  fs.symlinkSync(path.join('..data', 'agent.hcl'), file);
  const clock = new ManualClock();
  const calls: string[][] = [];
  const w = new ConfigFileWatcher([file], { clock, logger: silentLogger(), onChange: (f) => calls.push(f), reconcileMs: 60_000 });
  w.start();
  try {
    fs.mkdirSync(path.join(dir, '..v2'));
    fs.writeFileSync(path.join(dir, '..v2', 'agent.hcl'), 'log_level = "debug"');
    // The kubelet's atomic update: a new ..data link renamed over the old one.
    fs.symlinkSync('..v2', path.join(dir, '..data_tmp'));
    fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    w.reconcile();
    clock.advance(2000);
    assert.deepEqual(calls, [[file]]);
  } finally {
    w.stop();
  }
});
