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

const SNAP = /^consul-(\d+)\.snap$/;
const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-snapagent-'));
  dirs.push(d);
  return d;
}
const snaps = (dir: string): string[] => fs.readdirSync(dir).filter((f) => SNAP.test(f)).sort();

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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
    await until('four saves', () => a.saved() >= 4);
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
    await until('a leads', () => a.saved() >= 1);
    const b = start({ retain: 0 });
    await until('b registered', async () => (await client.agent.services()).data[b.agent.serviceId] !== undefined);
    await until('a saves twice more', () => a.saved() >= 3);
    assert.equal(b.saved(), 0);
    assert.ok(b.logs.includes('[INFO] Waiting to obtain leadership...'));
    assert.equal(snaps(b.settings.localPath).length, 0);
    const holder = (await client.kv.get('consul-snapshot/lock')).data;
    assert.ok(holder?.Session);
    await a.stop();
    const aCount = snaps(a.settings.localPath).length;
    await until('b takes over', () => b.saved() >= 2);
    assert.ok(b.logs.includes('[INFO] Obtained leadership'));
    assert.equal(snaps(a.settings.localPath).length, aCount);
    assert.equal(await b.stop(), 0);
  });

  test('one-shot mode from a config file: a single snapshot, then exit 0', async () => {
    const dir = tmp();
    const cfg = path.join(tmp(), 'snapshot.json');
    fs.writeFileSync(cfg, JSON.stringify({ snapshot_agent: { http_addr: dev.httpAddr, snapshot: { interval: '0s' }, local_storage: { path: dir } } }));
    const io = memoryIO();
    assert.equal(await runSnapshotAgent([`-config-file=${cfg}`], io, new AbortController().signal), 0, io.err);
    assert.equal(snaps(dir).length, 1);
    assert.match(io.out, /\[INFO\] Saved snapshot \d+\n$/);
    const none = path.join(tmp(), 'none.json');
    fs.writeFileSync(none, '{}');
    const bad = memoryIO();
    assert.equal(await runSnapshotAgent([`-config-file=${none}`], bad, new AbortController().signal), 1);
    assert.equal(bad.err, 'Error loading configuration: No snapshot_agent object found in the config files\n');
  });
});
