// GET /v1/agent/metrics/stream against a real agent (interval shortened through the agent's
// deps): a chunked stream of indented JSON summaries in /v1/agent/metrics' shape, agent:read
// under ACLs, and the agent keeps serving after the client leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent } from './support/agent.ts';
import { aclDenyConfig, httpCaller, ROOT, tokenWithRules } from './support/acl.ts';

/** Reads the stream until `count` summaries arrived, then leaves. */
async function summaries(addr: string, count: number, token = ''): Promise<Record<string, unknown>[]> {
  const ac = new AbortController();
  const res = await fetch(`http://${addr}/v1/agent/metrics/stream`, { signal: ac.signal, headers: token ? { 'X-Consul-Token': token } : {} });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = '';
  const out: Record<string, unknown>[] = [];
  while (out.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    // Each summary is a top-level object: it ends with a closing brace at the start of a line.
    for (let end = text.indexOf('\n}\n'); end >= 0; end = text.indexOf('\n}\n')) {
      out.push(JSON.parse(text.slice(0, end + 2)) as Record<string, unknown>);
      text = text.slice(end + 3);
    }
  }
  ac.abort();
  return out;
}

test('the stream sends one summary per interval in the metrics JSON shape, indented', async () => {
  const dev = await startDevAgent({ deps: { metricsStreamIntervalMs: 100 } });
  try {
    await fetch(`http://${dev.httpAddr}/v1/kv/m`, { method: 'PUT', body: 'v' });
    const got = await summaries(dev.httpAddr, 2);
    assert.equal(got.length, 2);
    for (const s of got) {
      assert.deepEqual(Object.keys(s), ['Timestamp', 'Gauges', 'Points', 'Counters', 'Samples']);
      assert.match(String(s.Timestamp), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
      assert.ok((s.Gauges as { Name: string }[]).some((g) => g.Name === 'consul.runtime.alloc_bytes'));
    }
    // After the client left, the agent answers as before.
    assert.equal((await fetch(`http://${dev.httpAddr}/v1/agent/metrics`)).status, 200);
  } finally {
    await dev.stop();
  }
});

test('the stream needs agent:read on the agent\'s node', async () => {
  const dev = await startDevAgent({ config: aclDenyConfig(), deps: { metricsStreamIntervalMs: 100 } });
  try {
    const call = httpCaller(() => dev.httpAddr);
    const denied = await call('GET', '/v1/agent/metrics/stream');
    assert.equal(denied.status, 403);
    assert.match(denied.text, /lacks permission 'agent:read' on "/);
    const reader = await tokenWithRules(call, `agent "${dev.agent.config.nodeName}" { policy = "read" }`);
    assert.equal((await summaries(dev.httpAddr, 1, reader.SecretID)).length, 1);
    assert.equal((await summaries(dev.httpAddr, 1, ROOT)).length, 1);
  } finally {
    await dev.stop();
  }
});
