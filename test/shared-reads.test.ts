// Identical blocking service reads woken by one change share one result and one rendered body
// (endpoint/shared-reads.ts): every answer must equal, byte for byte and header for header,
// what the same read computed on its own returns, and callers with other tokens or parameters
// must get their own answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent } from './support/agent.ts';
import type { InjectResponse } from '../src/http/server.ts';

type Http = { handle(r: { method: string; url: string; headers?: Record<string, string>; body?: string }): Promise<InjectResponse> };

async function register(http: Http, node: string, headers: Record<string, string> = {}): Promise<void> {
  const body = JSON.stringify({ Node: node, Address: '10.0.0.1', Service: { Service: 'hot', Port: 8080, Tags: ['a'] }, Check: { CheckID: 'c', Name: 'c', ServiceID: 'hot', Status: 'passing' } });
  const res = await http.handle({ method: 'PUT', url: '/v1/catalog/register', body, headers });
  assert.equal(res.status, 200, res.body.toString());
}

function comparable(res: InjectResponse): { status: number; headers: Record<string, string>; body: string } {
  return { status: res.status, headers: res.headers, body: res.body.toString() };
}

test('watchers of one service woken together get what an unshared read returns', async () => {
  const dev = await startDevAgent();
  try {
    const { http, replica } = dev.agent;
    await register(http, 'n1');
    const first = await http.handle({ method: 'GET', url: '/v1/health/service/hot' });
    const index = first.headers['X-Consul-Index'];
    const urls = [
      ...Array.from({ length: 20 }, () => `/v1/health/service/hot?index=${index}&wait=5m`),
      `/v1/health/service/hot?wait=5m&index=${index}&pretty`,
      `/v1/health/service/hot?index=${index}&wait=5m&passing`,
      `/v1/health/service/hot?index=${index}&wait=5m&tag=a`,
      `/v1/catalog/service/hot?index=${index}&wait=5m`,
      `/v1/catalog/service/hot?index=${index}&wait=5m&near=_agent`,
    ];
    const pending = urls.map((url) => http.handle({ method: 'GET', url }));
    while (replica.notifier.blocked < urls.length) await new Promise((r) => setTimeout(r, 5));
    await register(http, 'n2');
    const answers = await Promise.all(pending);
    // The reference: each read on its own (`dc=dc1` makes its key unlike any watcher's).
    for (const [i, url] of urls.entries()) {
      const alone = await http.handle({ method: 'GET', url: url.replace(/index=\d+/, 'index=0') + '&dc=dc1' });
      assert.deepEqual(comparable(answers[i]), comparable(alone), url);
      assert.ok(Number(answers[i].headers['X-Consul-Index']) > Number(index));
    }
    assert.equal((answers[0].json() as unknown[]).length, 2);
    assert.match(answers[20].body.toString(), /^\[\n {4}\{/);
  } finally {
    await dev.stop();
  }
});

/** A dev agent with ACLs on, default deny, and `root` as the initial management token. */
function aclDevAgent(root: string): ReturnType<typeof startDevAgent> {
  return startDevAgent({
    config: {
      acl: {
        enabled: true, defaultPolicy: 'deny', downPolicy: 'extend-cache',
        tokens: { initialManagement: root, agent: '', agentRecovery: '', default: '', replication: '', configFileServiceRegistration: '', dns: '' },
      },
    },
  });
}

test('with ACLs, watchers with different tokens do not share an answer', async () => {
  const root = 'root-secret';
  const dev = await aclDevAgent(root);
  try {
    const { http, replica } = dev.agent;
    const auth = { 'X-Consul-Token': root };
    await register(http, 'n1', auth);
    const index = (await http.handle({ method: 'GET', url: '/v1/health/service/hot', headers: auth })).headers['X-Consul-Index'];
    const url = `/v1/health/service/hot?index=${index}&wait=5m`;
    const pending = [
      http.handle({ method: 'GET', url, headers: auth }),
      http.handle({ method: 'GET', url }),
      http.handle({ method: 'GET', url: `${url}&token=${root}` }),
    ];
    while (replica.notifier.blocked < pending.length) await new Promise((r) => setTimeout(r, 5));
    await register(http, 'n2', auth);
    const [managed, anonymous, byParam] = await Promise.all(pending);
    assert.equal((managed.json() as unknown[]).length, 2);
    assert.deepEqual(anonymous.json(), []);
    assert.deepEqual(comparable(byParam), comparable(managed));
  } finally {
    await dev.stop();
  }
});

test('with ACLs, a wave of one token\'s filtered reads each get the filtered answer and its header; another token sees its own view', async () => {
  const root = 'root-secret';
  const dev = await aclDevAgent(root);
  try {
    const { http, replica } = dev.agent;
    const auth = { 'X-Consul-Token': root };
    const put = async (url: string, body: unknown): Promise<{ ID: string; SecretID: string }> => {
      const res = await http.handle({ method: 'PUT', url, body: JSON.stringify(body), headers: auth });
      assert.equal(res.status, 200, res.body.toString());
      return res.json() as { ID: string; SecretID: string };
    };
    const tokenFor = async (rules: string): Promise<string> => {
      const p = await put('/v1/acl/policy', { Name: `p-${Math.random().toString(36).slice(2)}`, Rules: rules });
      return (await put('/v1/acl/token', { Policies: [{ ID: p.ID }] })).SecretID;
    };
    // n1 only, then n2 only: each token's answer drops the other node's instances.
    const onN1 = await tokenFor('service "hot" { policy = "read" }\nnode "n1" { policy = "read" }');
    const onN2 = await tokenFor('service "hot" { policy = "read" }\nnode "n2" { policy = "read" }');
    await register(http, 'n1', auth);
    await register(http, 'n2', auth);
    const index = (await http.handle({ method: 'GET', url: '/v1/health/service/hot', headers: auth })).headers['X-Consul-Index'];
    const url = `/v1/health/service/hot?index=${index}&wait=5m`;
    const readers = [
      ...Array.from({ length: 4 }, () => ({ token: onN1, url })),
      ...Array.from({ length: 4 }, () => ({ token: onN2, url })),
      { token: onN1, url: `${url}&stale` },
      { token: root, url },
    ];
    const pending = readers.map((r) => http.handle({ method: 'GET', url: r.url, headers: { 'X-Consul-Token': r.token } }));
    while (replica.notifier.blocked < readers.length) await new Promise((r) => setTimeout(r, 5));
    await register(http, 'n3', auth);
    const answers = await Promise.all(pending);
    const nodes = (res: InjectResponse): string[] => (res.json() as { Node: { Node: string } }[]).map((e) => e.Node.Node).sort();
    for (const [i, r] of readers.entries()) {
      const want = r.token === root ? ['n1', 'n2', 'n3'] : r.token === onN1 ? ['n1'] : ['n2'];
      assert.deepEqual(nodes(answers[i]), want, `reader ${i}`);
      assert.equal(answers[i].headers['X-Consul-Results-Filtered-By-ACLs'], r.token === root ? undefined : 'true', `reader ${i}`);
      assert.equal(answers[i].headers['X-Consul-Effective-Consistency'], r.url.endsWith('&stale') ? 'stale' : 'leader', `reader ${i}`);
      // What the same read returns on its own, header for header.
      const alone = await http.handle({ method: 'GET', url: r.url.replace(/index=\d+/, 'index=0') + '&dc=dc1', headers: { 'X-Consul-Token': r.token } });
      assert.deepEqual(comparable(answers[i]), comparable(alone), `reader ${i}`);
    }
  } finally {
    await dev.stop();
  }
});
