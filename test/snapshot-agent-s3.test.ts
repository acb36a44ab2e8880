// `proconsul snapshot agent` with S3 storage against an S3-compatible server (npm s3rver, in this
// process on 127.0.0.1, checking SigV4 signatures): two agent processes share one datacenter, only
// the lock holder uploads consul-<id>.snap objects under the key prefix, exactly `retain` objects
// remain after many intervals, a downloaded object restores to the same state on a fresh agent,
// and after `kill -9` of the holder the lock moves to the other agent, which goes on uploading.
// The holder's lock session has a 1s TTL (the API's 15s held the lock ≈ 27 s after the kill).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConsulClient } from '../src/api/index.ts';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { defaultSettings } from '../src/cli/snapshot-agent-config.ts';
import { S3Bucket } from '../src/cli/snapshot-agent-s3.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { waitFor } from './support/wait.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
/** `snapshot agent` with a lock session TTL of argv[2] (Consul's snapshot agent has no option for it). */
const SHORT_TTL_AGENT = path.resolve(import.meta.dirname, 'support', 'snapshot-agent-proc.ts');
/** Agent A's lock session TTL: its session lapses within 2×TTL of kill -9, as Consul's server lets it. */
const LOCK_TTL = '1s';
const BUCKET = 'consul-backups';
const PREFIX = 'dc1/snapshots';
const RETAIN = 3;

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as new (o: object) => S3rverInstance;

/** A snapshot agent process and the log lines it printed. */
class AgentProcess {
  readonly child: ChildProcess;
  out = '';
  /** `proconsul snapshot agent args…`, or with `lockTTL`, test/support/snapshot-agent-proc.ts's. */
  constructor(args: string[], env: NodeJS.ProcessEnv, lockTTL?: string) {
    const argv = lockTTL ? [SHORT_TTL_AGENT, lockTTL, ...args] : [BIN, 'snapshot', 'agent', ...args];
    this.child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child.stdout!.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.out += d.toString(); });
  }
  has(line: string): boolean {
    return this.out.includes(`] ${line}\n`);
  }
  /** IDs of the snapshots this agent logged as saved, in order. */
  saved(): string[] {
    return [...this.out.matchAll(/\[INFO\] Saved snapshot (\d+)\n/g)].map((m) => m[1]);
  }
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }
}

describe('snapshot agent with S3 storage', () => {
  let s3: S3rverInstance;
  let endpoint = '';
  let dc: DevAgent;
  let fresh: DevAgent;
  let client: ConsulClient;
  let bucket: S3Bucket;
  const agents: AgentProcess[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-snap-s3-'));

  before(async () => {
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(dir, 's3'), configureBuckets: [{ name: BUCKET }] });
    endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
    dc = await startDevAgent({ config: { nodeName: 'dc-node', sessionTtlMin: 1_000 } });
    fresh = await startDevAgent({ config: { nodeName: 'fresh-node' } });
    client = new ConsulClient({ address: dc.httpAddr });
    for (const [k, v] of [['app/config', 'v1'], ['app/db/url', 'postgres://db'], ['flags/dark', 'on']]) await client.kv.put(k, Buffer.from(v));
    await client.catalog.register({ Node: 'ext-node', Address: '10.0.0.9', Service: { ID: 'web-1', Service: 'web', Port: 8080, Tags: ['blue'] } });
    bucket = new S3Bucket({
      ...defaultSettings().aws, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', s3Region: 'us-east-1', s3Bucket: BUCKET, s3Endpoint: endpoint, s3ForcePathStyle: true,
    }, {});
  });
  after(async () => {
    for (const a of agents) await a.kill();
    client?.close();
    await dc?.stop();
    await fresh?.stop();
    await s3?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Object keys under the prefix, sorted. */
  const objects = async (): Promise<string[]> => (await bucket.list(`${PREFIX}/`)).sort();

  // Agent A takes its settings from an HCL config file and its credentials from the environment,
  // and holds the lock with a short session TTL; agent B (bin/proconsul.js) from flags only (with
  // the endpoint from AWS_S3_ENDPOINT).
  function startA(): AgentProcess {
    const cfg = path.join(dir, 'a.hcl');
    fs.writeFileSync(cfg, `snapshot_agent {
  http_addr = "${dc.httpAddr}"
  snapshot {
    interval = "400ms"
    retain = ${RETAIN}
  }
  aws_storage {
    s3_region = "us-east-1"
    s3_bucket = "${BUCKET}"
    s3_key_prefix = "${PREFIX}"
    s3_endpoint = "${endpoint}"
    s3_force_path_style = true
    s3_server_side_encryption = true
  }
}
`);
    const a = new AgentProcess([`-config-file=${cfg}`, `-local-scratch-path=${path.join(dir, 'scratch-a')}`], {
      ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_EC2_METADATA_DISABLED: 'true',
    }, LOCK_TTL);
    agents.push(a);
    return a;
  }
  function startB(): AgentProcess {
    const b = new AgentProcess([
      `-http-addr=${dc.httpAddr}`, '-interval=400ms', `-retain=${RETAIN}`, `-aws-s3-bucket=${BUCKET}`, '-aws-s3-region=us-east-1',
      `-aws-s3-key-prefix=${PREFIX}`, '-aws-s3-force-path-style', '-aws-access-key-id=S3RVER', '-aws-secret-access-key=S3RVER',
      `-local-scratch-path=${path.join(dir, 'scratch-b')}`,
    ], { ...process.env, AWS_S3_ENDPOINT: endpoint, AWS_EC2_METADATA_DISABLED: 'true' });
    agents.push(b);
    return b;
  }

  /** Waits for a moment when the bucket holds exactly the newest `RETAIN` snapshots `agent` logged (after at least `min` saves). */
  async function retained(agent: AgentProcess, min: number): Promise<string[]> {
    let last: string[] = [];
    await waitFor(`${RETAIN} objects after ${min} saves`, async () => {
      const before = agent.saved();
      last = await objects();
      const now = agent.saved();
      return before.length >= min && before.length === now.length
        && JSON.stringify(last) === JSON.stringify(before.slice(-RETAIN).map((id) => `${PREFIX}/consul-${id}.snap`).sort());
    }, { ms: 30_000, every: 50 }).catch((err: Error) => {
      throw new Error(`${err.message}; bucket holds ${JSON.stringify(last)}; agent logged:\n${agent.out}`);
    });
    return last;
  }

  test('only the lock holder uploads; the bucket keeps exactly `retain`; a snapshot restores; the lock moves on kill -9', { timeout: 120_000 }, async (t) => {
    const a = startA();
    await waitFor('agent A leads', () => a.has('Obtained leadership'), { ms: 20_000, every: 50 });
    assert.ok(a.has('Snapshot agent running'));
    assert.ok(a.has('Waiting to obtain leadership...'));
    const b = startB();
    await waitFor('agent B waits', () => b.has('Waiting to obtain leadership...'), { ms: 20_000, every: 50 });

    const kept = await retained(a, RETAIN + 4);
    assert.equal(kept.length, RETAIN);
    assert.deepEqual(b.saved(), [], b.out);
    assert.ok(!b.has('Obtained leadership'));

    // Both registered as consul-snapshot with an alive check; only the leader has the saving check.
    const checks = Object.values((await client.agent.checks()).data).filter((c) => c.ServiceName === 'consul-snapshot');
    assert.equal(checks.filter((c) => c.Name === 'Consul Snapshot Agent Alive').length, 2);
    const saving = checks.filter((c) => c.Name === 'Consul Snapshot Agent Saving Snapshots');
    assert.equal(saving.length, 1);
    assert.equal(saving[0].Status, 'passing');
    assert.match(saving[0].Output, /^Saved snapshot \d+$/);
    assert.ok((await client.kv.get('consul-snapshot/lock')).data?.Session);

    // The newest object is a verified snapshot that restores the datacenter's state elsewhere.
    const file = path.join(dir, 'downloaded.snap');
    fs.writeFileSync(file, await bucket.get(kept[kept.length - 1]));
    const io = memoryIO({ env: { CONSUL_HTTP_ADDR: fresh.httpAddr } });
    assert.equal(await runCli(['snapshot', 'restore', file], io), 0, io.err);
    assert.equal(io.out, 'Restored snapshot\n');
    const freshClient = new ConsulClient({ address: fresh.httpAddr });
    try {
      const kv = async (c: ConsulClient) => (await c.kv.list('app/')).data?.map((p) => [p.Key, Buffer.from(p.Value ?? '', 'base64').toString()]) ?? [];
      assert.deepEqual(await kv(freshClient), [['app/config', 'v1'], ['app/db/url', 'postgres://db']]);
      assert.deepEqual(await kv(freshClient), await kv(client));
      assert.equal((await freshClient.kv.get('flags/dark', { raw: true })).data?.toString(), 'on');
      const web = (await freshClient.catalog.service('web')).data;
      assert.deepEqual(web.map((s) => [s.Node, s.Address, s.ServiceID, s.ServicePort, s.ServiceTags]), [['ext-node', '10.0.0.9', 'web-1', 8080, ['blue']]]);
    } finally {
      freshClient.close();
    }

    // kill -9 the holder: its session expires (within 2 s) and B takes the lock and keeps uploading.
    const aLast = BigInt(a.saved().at(-1)!);
    const killedAt = Date.now();
    await a.kill();
    await waitFor('agent B takes over', () => b.has('Obtained leadership'), { ms: 10_000, every: 50 });
    t.diagnostic(`lock moved to agent B ${Date.now() - killedAt} ms after kill -9 of agent A`);
    const after = await retained(b, RETAIN + 1);
    assert.ok(after.every((k) => BigInt(/consul-(\d+)\.snap$/.exec(k)![1]) > aLast), 'only B\'s snapshots remain');
  });

  test('a wrong secret key is refused by the server and counted as a failed snapshot', { timeout: 30_000 }, async () => {
    const bad = new AgentProcess([
      `-http-addr=${dc.httpAddr}`, '-interval=0', `-aws-s3-bucket=${BUCKET}`, '-aws-s3-region=us-east-1', `-aws-s3-endpoint=${endpoint}`,
      '-aws-s3-force-path-style', '-aws-access-key-id=S3RVER', '-aws-secret-access-key=wrong', `-local-scratch-path=${path.join(dir, 'scratch-c')}`,
    ], { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' });
    agents.push(bad);
    const code = await new Promise((r) => bad.child.once('exit', r));
    assert.equal(code, 1, bad.out);
    assert.match(bad.out, /\[ERROR\] Snapshot failed: S3 PutObject consul-snapshot\/consul-\d+\.snap failed: 403 SignatureDoesNotMatch/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'scratch-c')), []);
  });
});
