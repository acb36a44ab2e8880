// `proconsul snapshot agent` against a real dev agent: periodic verified snapshots named
// consul-<unix-ns>.snap pruned to `retain`, service registration with its checks, one active
// agent at a time through the consul-snapshot/lock KV lock, and the one-shot mode.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConsulClient } from '../src/api/index.ts';
import { memoryIO } from '../src/cli/io.ts';
import { SnapshotAgent } from '../src/cli/snapshot-agent-daemon.ts';
import { defaultSettings, type SnapshotAgentSettings } from '../src/cli/snapshot-agent-config.ts';
import { runSnapshotAgent } from '../src/cli/snapshot-agent.ts';
import { LocalStorage } from '../src/cli/snapshot-agent-local.ts';
import { readArchive } from '../src/snapshot/index.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { waitFor } from './support/wait.ts';

const SNAP = /^consul-(\d+)\.snap$/;
const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-snapagent-'));
  dirs.push(d);
  return d;
}
const snaps = (dir: string): string[] => fs.readdirSync(dir).filter((f) => SNAP.test(f)).sort();

describe('snapshot agent', () => {
  let dev: DevAgent;
  let client: ConsulClient;
  before(async () => {
    dev = await startDevAgent();
    client = new ConsulClient({ address: dev.httpAddr });
    await client.kv.put('app/config', Buffer.from('v1'));
  });
  after(async () => {
    client?.close();
    await dev?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  function start(overrides: Partial<SnapshotAgentSettings>) {
    const settings = { ...defaultSettings(), interval: 100, retain: 2, localPath: tmp(), ...overrides };
    const logs: string[] = [];
    const agent = new SnapshotAgent({ client, settings, storage: new LocalStorage(settings.localPath), log: (level, m) => logs.push(`[${level}] ${m}`), aliveTtlMs: 600 });
    const ctl = new AbortController();
    const done = agent.run(ctl.signal);
    const saved = () => logs.filter((l) => l.startsWith('[INFO] Saved snapshot')).length;
    return { agent, settings, logs, saved, done, stop: async () => { ctl.abort(); return done; } };
  }

  test('saves verified snapshots every interval and keeps only `retain` of them', async () => {
    const a = start({ retain: 2 });
    await waitFor('four saves', () => a.saved() >= 4);
    const checks = (await client.agent.checks()).data;
    const alive = checks[`${a.agent.serviceId}:alive`];
    assert.equal(alive.Name, 'Consul Snapshot Agent Alive');
    assert.equal(alive.Status, 'passing');
    assert.equal(alive.ServiceName, 'consul-snapshot');
    assert.equal(checks[`${a.agent.serviceId}:saving`].Name, 'Consul Snapshot Agent Saving Snapshots');
    assert.equal(await a.stop(), 0);
    const files = snaps(a.settings.localPath);
    assert.equal(files.length, 2);
    const ids = a.logs.filter((l) => l.startsWith('[INFO] Saved snapshot')).map((l) => l.split(' ').pop()!);
    assert.deepEqual(files, ids.slice(-2).map((id) => `consul-${id}.snap`));
    for (const f of files) {
      const { meta } = await readArchive(fs.readFileSync(path.join(a.settings.localPath, f)));
      assert.ok(meta.Index > 0);
    }
    assert.ok(a.logs.includes('[INFO] Obtained leadership'));
    assert.equal((await client.agent.service(a.agent.serviceId).catch(() => ({ data: null }))).data, null);
  });

  test('two agents take turns through the lock: one saves, the other takes over when it stops', async () => {
    const a = start({ retain: 0 });
    await waitFor('a leads', () => a.saved() >= 1);
    const b = start({ retain: 0 });
    await waitFor('b registered', async () => (await client.agent.services()).data[b.agent.serviceId] !== undefined);
    await waitFor('a saves twice more', () => a.saved() >= 3);
    assert.equal(b.saved(), 0);
    assert.ok(b.logs.includes('[INFO] Waiting to obtain leadership...'));
    assert.equal(snaps(b.settings.localPath).length, 0);
    const holder = (await client.kv.get('consul-snapshot/lock')).data;
    assert.ok(holder?.Session);
    await a.stop();
    const aCount = snaps(a.settings.localPath).length;
    await waitFor('b takes over', () => b.saved() >= 2);
    assert.ok(b.logs.includes('[INFO] Obtained leadership'));
    assert.equal(snaps(a.settings.localPath).length, aCount);
    assert.equal(await b.stop(), 0);
  });

  /** Log lines after the last 'Lost leadership' up to the next 'Obtained leadership' must hold no save. */
  function noSaveWhileLost(logs: string[]): void {
    let leading = false;
    for (const l of logs) {
      if (l === '[INFO] Obtained leadership') leading = true;
      if (l === '[WARN] Lost leadership' || l.startsWith('[ERROR] Too many snapshot failures')) leading = false;
      if (l.startsWith('[INFO] Saved snapshot')) assert.ok(leading, `saved without the lock:\n${logs.join('\n')}`);
    }
  }

  test('an agent whose lock session is invalidated stops saving; the lock key is -lock-key', async () => {
    const a = start({ retain: 0, lockKey: 'backup/leader' });
    await waitFor('a saves twice', () => a.saved() >= 2);
    const b = start({ retain: 0, lockKey: 'backup/leader' });
    await waitFor('b waits', () => b.logs.includes('[INFO] Waiting to obtain leadership...'));
    assert.equal(((await client.kv.get('consul-snapshot/lock')).data as { Session?: string } | null)?.Session, undefined);
    const held = (await client.kv.get('backup/leader')).data as { Session?: string } | null;
    assert.ok(held?.Session);
    await client.session.destroy(held.Session);
    await waitFor('a notices', () => a.logs.includes('[WARN] Lost leadership'));
    // Someone holds the lock again and saves; the other one does not.
    await waitFor('a new holder', async () => Boolean(((await client.kv.get('backup/leader')).data as { Session?: string } | null)?.Session));
    const holder = ((await client.kv.get('backup/leader')).data as { Session: string }).Session;
    assert.notEqual(holder, held.Session);
    const [leader, other] = b.logs.includes('[INFO] Obtained leadership') ? [b, a] : [a, b];
    const otherSaved = other.saved();
    const target = leader.saved() + 3;
    await waitFor('three more saves by the holder', () => leader.saved() >= target);
    assert.equal(other.saved(), otherSaved);
    noSaveWhileLost(a.logs);
    noSaveWhileLost(b.logs);
    await a.stop();
    await b.stop();
  });

  test('after -max-failures failed saves in a row the agent gives up leadership and contends again', async () => {
    const file = path.join(tmp(), 'not-a-dir');
    fs.writeFileSync(file, '');
    const a = start({ maxFailures: 2, interval: 50, localPath: path.join(file, 'snaps') });
    await waitFor('giving up', () => a.logs.includes('[ERROR] Too many snapshot failures, giving up leadership'));
    const i = a.logs.indexOf('[ERROR] Too many snapshot failures, giving up leadership');
    assert.match(a.logs[i - 2], /^\[ERROR\] Snapshot failed \(1\/2\): /);
    assert.match(a.logs[i - 1], /^\[ERROR\] Snapshot failed \(2\/2\): /);
    await waitFor('contending again', () => a.logs.lastIndexOf('[INFO] Waiting to obtain leadership...') > i);
    assert.equal(a.saved(), 0);
    await a.stop();
  });

  test('one-shot mode from a config file: a single snapshot, then exit 0', async () => {
    const dir = tmp();
    const cfg = path.join(tmp(), 'snapshot.json');
    fs.writeFileSync(cfg, JSON.stringify({ snapshot_agent: { http_addr: dev.httpAddr, snapshot: { interval: '0s' }, local_storage: { path: dir } } }));
    const io = memoryIO();
    assert.equal(await runSnapshotAgent([`-config-file=${cfg}`], io, new AbortController().signal), 0, io.err);
    assert.equal(snaps(dir).length, 1);
    // Consul's documented log line: Go's standard log time, level, message.
    assert.match(io.out, /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[INFO\] Saved snapshot \d+\n$/);
    const none = path.join(tmp(), 'none.json');
    fs.writeFileSync(none, '{}');
    const bad = memoryIO();
    assert.equal(await runSnapshotAgent([`-config-file=${none}`], bad, new AbortController().signal), 1);
    assert.equal(bad.err, 'Error loading configuration: No snapshot_agent object found in the config files\n');
  });
});
