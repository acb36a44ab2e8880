// Consul's cross-cutting HTTP conventions against a real dev agent: headers on every answer,
// 301/404/405, ?pretty, query-parameter validation and texts, consistency headers, and the
// identity endpoints clients read first (status, agent/self, Connect CA roots).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { X509Certificate } from 'node:crypto';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import type { InjectResponse } from '../src/http/index.ts';

let dev: DevAgent;

function req(method: string, url: string, body?: string, headers?: Record<string, string>): Promise<InjectResponse> {
  return dev.agent.http.handle({ method, url, body, headers });
}

function socket(method: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request(`http://${dev.httpAddr}${path}`, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

before(async () => {
  dev = await startDevAgent();
  await req('PUT', '/v1/kv/conv/k', 'v');
});
after(async () => {
  await dev.stop();
});

describe('headers and status codes', () => {
  test('X-Consul-Default-ACL-Policy is on every answer, errors included', async () => {
    const cases: [string, string, number][] = [
      ['GET', '/v1/kv/conv/k', 200], ['GET', '/v1/kv/conv/none', 404], ['GET', '/v1/kv/conv/k?wait=xyz', 400],
      ['POST', '/v1/kv/conv/k', 405], ['GET', '/v1/nope', 404], ['GET', '/v1/kv/conv/k?dc=other', 500],
      ['GET', '/v1/status/leader', 200], ['GET', '/v1/kv//conv/k', 301],
    ];
    for (const [method, url, status] of cases) {
      const r = await socket(method, url);
      assert.equal(r.status, status, `${method} ${url}`);
      assert.equal(r.headers['x-consul-default-acl-policy'], 'allow', `${method} ${url}`);
    }
  });

  test('wrong method: 405 with Allow listing OPTIONS and the registered methods', async () => {
    const r = await socket('POST', '/v1/kv/conv/k');
    assert.equal(r.status, 405);
    assert.equal(r.body, 'method POST not allowed');
    assert.equal(r.headers.allow, 'OPTIONS,GET,PUT,DELETE');
    const t = await socket('GET', '/v1/txn');
    assert.equal(t.status, 405);
    assert.equal(t.headers.allow, 'OPTIONS,PUT');
    const s = await socket('PUT', '/v1/status/leader');
    assert.equal(s.status, 405);
    assert.equal(s.headers.allow, 'OPTIONS,GET');
  });

  test('OPTIONS answers 200 with the Allow header and no body', async () => {
    const r = await socket('OPTIONS', '/v1/kv/conv/k');
    assert.equal(r.status, 200);
    assert.equal(r.headers.allow, 'OPTIONS,GET,PUT,DELETE');
    assert.equal(r.body, '');
  });

  test('unknown paths: 404 with Consul\'s index-handler text', async () => {
    const r = await socket('GET', '/v1/nope');
    assert.equal(r.status, 404);
    assert.equal(r.body, 'Invalid URL path: not a recognized HTTP API endpoint\n');
    const outside = await socket('GET', '/nope');
    assert.equal(outside.body, "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n");
  });

  test('a double slash is a 301 to the cleaned path, keeping the query', async () => {
    const r = await socket('GET', '/v1/kv//conv/k?raw');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/v1/kv/conv/k?raw');
    const plain = await req('GET', '/v1/kv//foo');
    assert.equal(plain.status, 301);
    assert.equal(plain.headers.Location, '/v1/kv/foo');
  });

  test('?pretty indents JSON with 4 spaces and a trailing newline; compact by default, pretty everywhere in -dev', async () => {
    const plain = await startDevAgent({ config: { dev: false } });
    const dev = await startDevAgent({ config: { dev: true } });
    try {
      await plain.agent.http.handle({ method: 'PUT', url: '/v1/kv/k', body: 'v' });
      const compact = await plain.agent.http.handle({ method: 'GET', url: '/v1/kv/k' });
      assert.equal(compact.status, 200);
      assert.ok(!compact.body.toString().includes('\n'));
      // Consul marshals every answer with indentation in -dev mode.
      const put = await dev.agent.http.handle({ method: 'PUT', url: '/v1/kv/k', body: 'v' });
      assert.equal(put.body.toString(), 'true\n');
      const got = (await dev.agent.http.handle({ method: 'GET', url: '/v1/kv/k' })).body.toString();
      assert.equal(got, JSON.stringify(JSON.parse(got), null, 4) + '\n');
    } finally {
      await plain.stop();
      await dev.stop();
    }
    const pretty = await req('GET', '/v1/kv/conv/k?pretty');
    const text = pretty.body.toString();
    assert.equal(text, JSON.stringify(JSON.parse(text), null, 4) + '\n');
    assert.match(text, /^\[\n {4}\{\n {8}"LockIndex"/);
  });

  test('reads carry X-Consul-KnownLeader true, X-Consul-LastContact 0 and the effective consistency', async () => {
    for (const [q, want] of [['', 'leader'], ['?stale', 'stale'], ['?consistent', 'consistent'], ['?leader', 'leader'], ['?max_stale=5s', 'stale']]) {
      const r = await req('GET', `/v1/kv/conv/k${q}`);
      assert.equal(r.status, 200, q);
      assert.equal(r.headers['X-Consul-KnownLeader'], 'true');
      assert.equal(r.headers['X-Consul-LastContact'], '0');
      assert.equal(r.headers['X-Consul-Effective-Consistency'], want, q);
    }
  });
});

describe('query parameter validation', () => {
  test('dc=other: 500 No path to datacenter; dc=dc1 is fine', async () => {
    for (const url of ['/v1/kv/conv/k?dc=other', '/v1/status/leader?dc=other']) {
      const r = await req('GET', url);
      assert.equal(r.status, 500, url);
      assert.equal(r.body.toString(), 'No path to datacenter', url);
    }
    const w = await req('PUT', '/v1/kv/conv/w?dc=other', 'x');
    assert.equal(w.status, 500);
    assert.equal((await req('GET', '/v1/kv/conv/k?dc=dc1')).status, 200);
  });

  test('?stale with ?consistent, and ?cached with ?consistent, are 400s with Consul\'s texts', async () => {
    const a = await req('GET', '/v1/kv/conv/k?stale&consistent');
    assert.equal(a.status, 400);
    assert.equal(a.body.toString(), 'Cannot specify ?stale with ?consistent, conflicting semantics.');
    const b = await req('GET', '/v1/kv/conv/k?cached&consistent');
    assert.equal(b.status, 400);
    assert.equal(b.body.toString(), 'Cannot specify ?cached with ?consistent, conflicting semantics.');
  });

  test('wait takes Go durations with fractions; garbage is 400 Invalid wait time', async () => {
    for (const w of ['1.5s', '0.001s', '1m30s', '1.9913771152496338s', '100ms']) {
      const r = await req('GET', `/v1/kv/conv/k?wait=${w}`);
      assert.equal(r.status, 200, w);
    }
    for (const w of ['xyz', '5', '1.5', 's']) {
      const r = await req('GET', `/v1/kv/conv/k?wait=${w}`);
      assert.equal(r.status, 400, w);
      assert.equal(r.body.toString(), 'Invalid wait time');
    }
  });

  test('index must be an unsigned integer: 400 Invalid index', async () => {
    for (const i of ['abc', '-1', '1.5']) {
      const r = await req('GET', `/v1/kv/conv/k?index=${i}`);
      assert.equal(r.status, 400, i);
      assert.equal(r.body.toString(), 'Invalid index');
    }
    assert.equal((await req('GET', '/v1/kv/conv/k?index=0')).status, 200);
  });

  test('?passing is Go\'s ParseBool (bare means true); anything else is 400 Invalid value for ?passing', async () => {
    for (const path of ['/v1/health/service/conv', '/v1/health/connect/conv', '/v1/health/ingress/conv']) {
      for (const v of ['maybe', 'yes', '%FF']) {
        const r = await req('GET', `${path}?passing=${v}`);
        assert.deepEqual([r.status, r.body.toString()], [400, 'Invalid value for ?passing'], `${path}?passing=${v}`);
      }
      for (const v of ['', '=1', '=T', '=false', '=0']) assert.equal((await req('GET', `${path}?passing${v}`)).status, 200, `${path}?passing${v}`);
    }
  });

  test('handlers that parse no namespace in Consul ignore ?ns= and ?partition= (the CLI sends CONSUL_NAMESPACE on every request); operator usage takes them', async () => {
    for (const p of ['/v1/connect/ca/roots', '/v1/agent/connect/ca/roots', '/v1/query', '/v1/operator/usage']) {
      for (const q of ['ns=team-a', 'partition=default', 'ns=default&partition=default']) {
        const r = await req('GET', `${p}?${q}`);
        assert.equal(r.status, 200, `${p}?${q}: ${r.body.toString()}`);
      }
      const hdr = await req('GET', p, undefined, { 'X-Consul-Namespace': 'team-a', 'X-Consul-Partition': 'default' });
      assert.equal(hdr.status, 200, `${p} with headers: ${hdr.body.toString()}`);
    }
    // A prepared query's own endpoints too (Consul's preparedQueryGet/Explain/Execute parse none).
    const created = await req('POST', '/v1/query', JSON.stringify({ Name: 'ns-ignored', Service: { Service: 'nothing' } }));
    assert.equal(created.status, 200, created.body.toString());
    const id = (JSON.parse(created.body.toString()) as { ID: string }).ID;
    for (const op of ['', '/explain', '/execute']) assert.equal((await req('GET', `/v1/query/${id}${op}?ns=team-a`)).status, 200, op);
    await req('DELETE', `/v1/query/${id}`);
  });
});

describe('identity endpoints', () => {
  test('/v1/status/leader is "ip:serverport" and /v1/status/peers lists it', async () => {
    const r = await socket('GET', '/v1/status/leader');
    assert.equal(r.status, 200);
    const leader = JSON.parse(r.body) as string;
    assert.equal(leader, '127.0.0.1:8300');
    const peers = JSON.parse((await socket('GET', '/v1/status/peers')).body) as string[];
    assert.deepEqual(peers, [leader]);
  });

  test('/v1/agent/self: every top-level member is an object; the fields clients read are there', async () => {
    const r = await socket('GET', '/v1/agent/self');
    assert.equal(r.status, 200);
    const self = JSON.parse(r.body) as Record<string, Record<string, any>>;
    for (const [k, v] of Object.entries(self)) {
      assert.ok(v === null || (typeof v === 'object' && !Array.isArray(v)), `${k} is an object`);
    }
    assert.equal(self.Config.NodeName, 'test-node');
    assert.equal(self.Config.Datacenter, 'dc1');
    assert.equal(self.Config.Server, true);
    assert.match(self.Config.Version, /^\d+\.\d+\.\d+/);
    assert.equal(self.Member.Addr, '127.0.0.1');
    assert.equal(self.Member.Name, 'test-node');
    assert.equal(self.Stats.consul.leader_addr, '127.0.0.1:8300');
    assert.equal(self.Stats.consul.leader, 'true');
  });

  test('/v1/connect/ca/roots has an active root in <cluster-id>.consul with a SPIFFE URI SAN', async () => {
    const r = await socket('GET', '/v1/connect/ca/roots');
    assert.equal(r.status, 200);
    assert.ok(Number(r.headers['x-consul-index']) >= 1);
    const list = JSON.parse(r.body) as { ActiveRootID: string; TrustDomain: string; Roots: { ID: string; Active: boolean; RootCert: string }[] };
    assert.match(list.TrustDomain, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.consul$/);
    const active = list.Roots.filter((x) => x.Active);
    assert.equal(active.length, 1);
    assert.equal(active[0].ID, list.ActiveRootID);
    const cert = new X509Certificate(active[0].RootCert);
    assert.ok(cert.ca);
    assert.match(cert.subjectAltName ?? '', new RegExp(`URI:spiffe://${list.TrustDomain.replace(/\./g, '\\.')}`));

    const pem = await socket('GET', '/v1/connect/ca/roots?pem=true');
    assert.equal(pem.status, 200);
    assert.equal(pem.headers['content-type'], 'application/pem-certificate-chain');
    assert.match(pem.body, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(new X509Certificate(pem.body).fingerprint256, cert.fingerprint256);
  });
});
