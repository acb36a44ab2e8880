// `proconsul acl init` on an agent started with ACLs off: ACLs turn on without a restart
// (PUT /v1/agent/acl/enable, loopback only), anonymous requests are then denied and the printed
// tokens work; with a data dir the setting and the agent's tokens survive a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { agentAclHandlers } from '../src/http/v1/agent-acl.ts';
import { isLoopback } from '../src/agent/acl-enable.ts';
import type { HttpRequest } from '../src/http/index.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

async function call(a: DevAgent, method: string, url: string, token = '', body?: string) {
  const res = await a.agent.http.handle({ method, url, headers: token ? { 'X-Consul-Token': token } : {}, body });
  return { status: res.status, text: res.body.toString('utf8'), headers: res.headers };
}

async function aclInit(a: DevAgent, token = '') {
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: a.httpAddr, CONSUL_HTTP_TOKEN: token } });
  const code = await runCli(['acl', 'init'], io);
  const grab = (label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(io.out)?.[1] ?? '';
  return { code, out: io.out, err: io.err, mgmt: grab('Management token'), agent: grab('Agent token'), dns: grab('DNS token') };
}

test('acl init on an agent with ACLs off: enforced at once, printed tokens work, no restart', async () => {
  const a = await startDevAgent();
  try {
    assert.equal((await call(a, 'PUT', '/v1/kv/app/x', '', 'v')).status, 200, 'ACLs are off at first');
    const r = await aclInit(a);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ACLs enabled \(default policy deny\)\n/);
    const anon = await call(a, 'GET', '/v1/kv/app/x');
    assert.equal(anon.status, 403);
    assert.equal(anon.text, `Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission 'key:read' on "app/x"`);
    assert.equal(anon.headers['X-Consul-Default-ACL-Policy'], 'deny');
    assert.equal((await call(a, 'GET', '/v1/kv/app/x', r.mgmt)).status, 200);
    assert.equal((await call(a, 'GET', '/v1/kv/app/x', 'not-a-token')).text, 'ACL not found');
    assert.equal((await call(a, 'GET', '/v1/catalog/nodes', r.dns)).status, 200);
    assert.equal((await call(a, 'PUT', '/v1/kv/app/x', r.dns, 'w')).status, 403, 'the DNS token is read-only');
    assert.equal(a.agent.local.tokens.get('agent'), r.agent);
    assert.equal(a.agent.local.tokens.get('dns'), r.dns);
    const self = JSON.parse((await call(a, 'GET', '/v1/agent/self', r.mgmt)).text);
    assert.deepEqual([self.DebugConfig.ACLsEnabled, self.DebugConfig.ACLResolverSettings.ACLDefaultPolicy, self.Stats.consul.acl], [true, 'deny', 'enabled']);
    const again = await aclInit(a);
    assert.equal(again.code, 1, 'a second init cannot bootstrap again');
    assert.match(again.err, /ACL bootstrap no longer allowed/);
    assert.equal((await aclInit(a, r.mgmt)).code, 0, 'with the management token a second init only adds tokens');
  } finally {
    await a.stop();
  }
});

test('with a data dir the runtime setting and the agent tokens survive a restart', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-acl-init-'));
  const config = { dataDir, store: { backend: 'embedded' as const } };
  let a = await startDevAgent({ config });
  let r: Awaited<ReturnType<typeof aclInit>>;
  try {
    r = await aclInit(a);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /saved in the data dir/);
  } finally {
    await a.stop();
  }
  a = await startDevAgent({ config });
  try {
    assert.equal(a.agent.config.acl.enabled, true);
    assert.equal((await call(a, 'GET', '/v1/kv/app/x')).status, 403, 'anonymous still denied after the restart');
    assert.equal((await call(a, 'PUT', '/v1/kv/app/x', r.mgmt, 'v')).status, 200);
    assert.equal(a.agent.local.tokens.get('dns'), r.dns);
    assert.equal(a.agent.local.tokens.get('agent'), r.agent);
  } finally {
    await a.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('only callers on the agent\'s own host may enable ACLs', async () => {
  assert.deepEqual(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'].map(isLoopback), [true, true, true, true]);
  assert.deepEqual(['10.0.0.5', '::ffff:10.0.0.5', '', '1270.0.0.1', 'fe80::1'].map(isLoopback), [false, false, false, false, false]);
  let enabled = 0;
  const h = agentAclHandlers({ enable: async () => ++enabled, isLocal: isLoopback }, { datacenter: 'dc1', defaultToken: '' });
  const req = (remoteAddr: string) => ({ method: 'PUT', path: '/v1/agent/acl/enable', params: { rest: '' }, query: new URLSearchParams(), headers: {}, remoteAddr, signal: new AbortController().signal, body: async () => Buffer.alloc(0) }) as HttpRequest;
  await assert.rejects(h.enable(req('10.0.0.5')), /Permission denied: ACLs can only be enabled from the agent's own host/);
  assert.equal(enabled, 0);
  assert.deepEqual((await h.enable(req('127.0.0.1'))).body, 1);
});
