// The snapshot agent under ACLs with Consul's documented least-privilege policy, its token from an
// auth-method login (-login-auth-method, -login-bearer-token-file, -login-meta) against a `jwt`
// method on a static key: it registers, takes the lock, saves, and logs the token out at exit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { memoryIO } from '../src/cli/io.ts';
import { runSnapshotAgent } from '../src/cli/snapshot-agent.ts';
import { aclDenyConfig, ROOT } from './support/acl.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

const NODE = 'server-1234';
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let a: DevAgent;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-snapacl-'));

function jwt(claims: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const data = `${enc({ alg: 'ES256', typ: 'JWT' })}.${enc(claims)}`;
  return `${data}.${sign('sha256', Buffer.from(data), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

async function call(method: string, p: string, body?: unknown) {
  const res = await fetch(`http://${a.httpAddr}${p}`, { method, headers: { 'X-Consul-Token': ROOT }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, `${method} ${p}: ${text}`);
  return JSON.parse(text);
}

before(async () => {
  a = await startDevAgent({ config: { nodeName: NODE, ...aclDenyConfig() } });
  await call('PUT', '/v1/acl/auth-method', {
    Name: 'k8s-like', Type: 'jwt', Config: { JWTValidationPubKeys: [key.publicKey.export({ type: 'spki', format: 'pem' }).toString()], BoundAudiences: ['consul'], JWTSupportedAlgs: ['ES256'] },
  });
  // The example least-privilege policy of Consul's snapshot agent documentation.
  await call('PUT', '/v1/acl/policy', {
    Name: 'snapshot-agent',
    Rules: `acl = "write"\nkey "consul-snapshot/lock" { policy = "write" }\nsession "${NODE}" { policy = "write" }\nservice "consul-snapshot" { policy = "write" }\n`,
  });
  await call('PUT', '/v1/acl/binding-rule', { AuthMethod: 'k8s-like', BindType: 'policy', BindName: 'snapshot-agent' });
});
after(async () => {
  await a?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('logs in, saves with the least-privilege policy, logs out at exit', async () => {
  const tokenFile = path.join(dir, 'jwt');
  fs.writeFileSync(tokenFile, `${jwt({ aud: 'consul', sub: 'snap', exp: Math.floor(Date.now() / 1000) + 600 })}\n`);
  const snaps = path.join(dir, 'snaps');
  const io = memoryIO({ env: {} });
  const ctl = new AbortController();
  const done = runSnapshotAgent([
    `-http-addr=${a.httpAddr}`, '-interval=100ms', '-retain=2', `-local-path=${snaps}`,
    '-login-auth-method=k8s-like', `-login-bearer-token-file=${tokenFile}`, '-login-meta=pod=snap-0',
  ], io, ctl.signal);
  const end = Date.now() + 15_000;
  while ((io.out.match(/\[INFO\] Saved snapshot/g) ?? []).length < 3) {
    assert.ok(Date.now() < end, `no saves: ${io.out}${io.err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const tokens = await call('GET', '/v1/acl/tokens?authmethod=k8s-like') as { Description: string }[];
  assert.deepEqual(tokens.map((t) => t.Description), ['token created via login: {"pod":"snap-0"}']);
  ctl.abort();
  assert.equal(await done, 0, io.err);
  assert.equal(fs.readdirSync(snaps).filter((f) => /^consul-\d+\.snap$/.test(f)).length, 2);
  assert.deepEqual(await call('GET', '/v1/acl/tokens?authmethod=k8s-like'), [], 'logged out at exit');
});

test('without login the anonymous token cannot run it; a bad bearer token is refused', async () => {
  const io = memoryIO({ env: {} });
  assert.equal(await runSnapshotAgent([`-http-addr=${a.httpAddr}`, '-interval=0', `-local-path=${dir}`], io, new AbortController().signal), 1);
  assert.match(io.err, /\[ERROR\] Snapshot failed: Error saving snapshot: .*Permission denied/);
  const bad = memoryIO({ env: {} });
  assert.equal(await runSnapshotAgent([`-http-addr=${a.httpAddr}`, '-interval=0', '-login-auth-method=k8s-like', '-login-bearer-token=not-a-jwt'], bad, new AbortController().signal), 1);
  assert.match(bad.err, /^Error logging in: /);
});
