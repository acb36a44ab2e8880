// Snapshot save and restore end to end: save on one agent, restore on another with the embedded
// store (KV, catalog and sessions come back equal), indexes jump forward, blocked queries wake,
// pre-restore CAS indexes fail, corrupt archives change nothing, and ACLs require management.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { readArchive, readTar, writeTar } from '../src/snapshot/index.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-snap-'));
  dirs.push(d);
  return d;
}

async function call(dev: DevAgent, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const raw = body === undefined ? undefined : Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`http://${dev.httpAddr}${p}`, { method, body: raw, headers });
  const buf = Buffer.from(await res.arrayBuffer());
  let json: any;
  try { json = JSON.parse(buf.toString('utf8')); } catch { json = undefined; }
  return { status: res.status, buf, text: buf.toString('utf8'), json, headers: res.headers };
}

// The state a user sees: KV, external catalog nodes with services and checks, sessions.
async function visible(dev: DevAgent) {
  const kv = (await call(dev, 'GET', '/v1/kv/?recurse')).json.map((e: any) => ({ Key: e.Key, Value: e.Value, Flags: e.Flags, Session: e.Session }));
  const nodes = (await call(dev, 'GET', '/v1/catalog/nodes')).json.filter((n: any) => n.Node.startsWith('ext-')).map((n: any) => ({ Node: n.Node, Address: n.Address, Meta: n.Meta }));
  const svc = (await call(dev, 'GET', '/v1/catalog/service/web')).json.map((s: any) => ({ Node: s.Node, ID: s.ServiceID, Port: s.ServicePort, Tags: s.ServiceTags }));
  const checks = (await call(dev, 'GET', '/v1/health/node/ext-1')).json.map((c: any) => ({ ID: c.CheckID, Status: c.Status }));
  const sessions = (await call(dev, 'GET', '/v1/session/list')).json.map((s: any) => ({ ID: s.ID, Node: s.Node, Name: s.Name, TTL: s.TTL, Behavior: s.Behavior }));
  return { kv, nodes, svc, checks, sessions };
}

describe('snapshot save and restore', () => {
  let src: DevAgent;
  let dst: DevAgent;
  let archive: Buffer;
  let sessionId: string;
  before(async () => {
    src = await startDevAgent({ config: { nodeName: 'src' } });
    dst = await startDevAgent({ config: { nodeName: 'dst', dataDir: tmp(), store: { backend: 'embedded' } } });
    await call(src, 'PUT', '/v1/catalog/register', {
      Node: 'ext-1', Address: '10.0.0.1', NodeMeta: { rack: 'a' },
      Service: { ID: 'web-1', Service: 'web', Port: 80, Tags: ['v1'] },
      Check: { CheckID: 'web-ok', Name: 'web', Status: 'passing', ServiceID: 'web-1' },
    });
    sessionId = (await call(src, 'PUT', '/v1/session/create', { Node: 'ext-1', Name: 'locker', TTL: '60s', Checks: [] })).json.ID;
    await call(src, 'PUT', '/v1/kv/app/config?flags=42', 'hello');
    await call(src, 'PUT', `/v1/kv/app/lock?acquire=${sessionId}`, 'held');
    await call(src, 'PUT', '/v1/kv/other', Buffer.from([0, 1, 2, 255]));
  });
  after(async () => {
    await src?.stop();
    await dst?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('GET /v1/snapshot answers a verified archive with X-Consul-Index', async () => {
    const res = await call(src, 'GET', '/v1/snapshot');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-gzip');
    archive = res.buf;
    const { meta } = await readArchive(archive);
    assert.equal(meta.Index, Number(res.headers.get('x-consul-index')));
    assert.match(meta.ID, new RegExp(`^\\d+-${meta.Index}-\\d+$`));
    assert.equal(meta.Version, 1);
    const names = readTar(zlib.gunzipSync(archive)).map((e) => e.name);
    assert.deepEqual(names, ['meta.json', 'state.bin', 'SHA256SUMS']);
    assert.equal((await call(src, 'GET', '/v1/snapshot?dc=nope')).status, 500);
  });

  test('PUT /v1/snapshot on another agent restores the same KV, catalog and sessions, at higher indexes', async () => {
    await call(dst, 'PUT', '/v1/kv/app/config', 'old');
    await call(dst, 'PUT', '/v1/kv/gone', 'x');
    const before = await call(dst, 'GET', '/v1/kv/app/config');
    const beforeIndex = Number(before.headers.get('x-consul-index'));
    const oldModify = before.json[0].ModifyIndex;
    // A blocking query parked at the current index must wake on the restore.
    const blocked = call(dst, 'GET', `/v1/kv/app/config?index=${beforeIndex}&wait=30s`);
    await new Promise((r) => setTimeout(r, 50));
    const res = await call(dst, 'PUT', '/v1/snapshot', archive);
    assert.equal(res.status, 200, res.text);
    const woke = await blocked;
    assert.equal(Buffer.from(woke.json[0].Value, 'base64').toString(), 'hello');
    assert.ok(Number(woke.headers.get('x-consul-index')) > beforeIndex);
    const want = await visible(src);
    assert.ok(want.kv.length === 3 && want.nodes.length === 1 && want.svc.length === 1 && want.checks.length === 1 && want.sessions.length === 1);
    assert.deepEqual(await visible(dst), want);
    const after = (await call(dst, 'GET', '/v1/kv/app/config')).json[0];
    assert.ok(after.ModifyIndex > beforeIndex && after.CreateIndex > beforeIndex);
    assert.equal((await call(dst, 'GET', '/v1/kv/gone')).status, 404);
    // A CAS with the index read before the restore fails safely.
    assert.equal((await call(dst, 'PUT', `/v1/kv/app/config?cas=${oldModify}`, 'stale')).text, 'false');
    assert.equal((await call(dst, 'PUT', `/v1/kv/app/config?cas=${after.ModifyIndex}`, 'fresh')).text, 'true');
    const lock = (await call(dst, 'GET', '/v1/kv/app/lock')).json[0];
    assert.equal(lock.Session, sessionId);
    // Restoring over live sessions is not an invalidation: no lock-delay starts on their keys.
    assert.equal((await call(dst, 'PUT', '/v1/snapshot', archive)).status, 200);
    assert.equal((await call(dst, 'PUT', `/v1/kv/app/lock?acquire=${sessionId}`, 'again')).text, 'true');
  });

  test('a corrupt or tampered archive is rejected and changes nothing', async () => {
    const beforeState = await visible(dst);
    const beforeIndex = (await call(dst, 'GET', '/v1/kv/app/config')).headers.get('x-consul-index');
    const garbage = await call(dst, 'PUT', '/v1/snapshot', Buffer.from('not a snapshot'));
    assert.equal(garbage.status, 500);
    assert.match(garbage.text, /^failed to read snapshot: failed to decompress snapshot/);
    const files = readTar(zlib.gunzipSync(archive));
    const state = files.find((f) => f.name === 'state.bin')!;
    state.data = Buffer.from(state.data);
    state.data[state.data.length - 3] ^= 1;
    const tampered = await call(dst, 'PUT', '/v1/snapshot', zlib.gzipSync(writeTar(files)));
    assert.equal(tampered.status, 500);
    assert.equal(tampered.text, 'failed to read snapshot: failed to read snapshot file: failed checking integrity of snapshot: hash check failed for "state.bin"');
    const truncated = await call(dst, 'PUT', '/v1/snapshot', archive.subarray(0, archive.length - 40));
    assert.equal(truncated.status, 500);
    assert.deepEqual(await visible(dst), beforeState);
    assert.equal((await call(dst, 'GET', '/v1/kv/app/config')).headers.get('x-consul-index'), beforeIndex);
  });
});

describe('snapshot ACLs', () => {
  let dev: DevAgent;
  before(async () => {
    dev = await startDevAgent({
      config: {
        acl: {
          enabled: true, defaultPolicy: 'deny', downPolicy: 'extend-cache',
          tokens: { initialManagement: 'root', agent: '', agentRecovery: '', default: '', replication: '', configFileServiceRegistration: '', dns: '' },
        },
      },
    });
  });
  after(async () => dev?.stop());

  test('save and restore need acl:write', async () => {
    const anon = await call(dev, 'GET', '/v1/snapshot');
    assert.equal(anon.status, 403);
    const policy = (await call(dev, 'PUT', '/v1/acl/policy', { Name: 'kv', Rules: 'key_prefix "" { policy = "write" }' }, { 'X-Consul-Token': 'root' })).json;
    const token = (await call(dev, 'PUT', '/v1/acl/token', { Policies: [{ ID: policy.ID }] }, { 'X-Consul-Token': 'root' })).json;
    assert.equal((await call(dev, 'GET', '/v1/snapshot', undefined, { 'X-Consul-Token': token.SecretID })).status, 403);
    const ok = await call(dev, 'GET', '/v1/snapshot', undefined, { 'X-Consul-Token': 'root' });
    assert.equal(ok.status, 200);
    assert.equal((await call(dev, 'PUT', '/v1/snapshot', ok.buf, { 'X-Consul-Token': token.SecretID })).status, 403);
    assert.equal((await call(dev, 'PUT', '/v1/snapshot', ok.buf, { 'X-Consul-Token': 'root' })).status, 200);
    assert.equal((await call(dev, 'GET', '/v1/acl/token/self', undefined, { 'X-Consul-Token': token.SecretID })).status, 200);
  });
});
