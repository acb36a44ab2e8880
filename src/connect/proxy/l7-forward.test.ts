import assert from 'node:assert/strict';
import { test } from 'node:test';
import https from 'node:https';
import tls from 'node:tls';
import { attempt, endToEnd, replayableOnStale, resetReplyText } from './l7-forward.ts';

test('a request that failed on a pooled connection goes again unasked only when sending it twice is harmless', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) assert.equal(replayableOnStale(m, {}), true, m);
  for (const m of ['POST', 'PATCH', 'CONNECT']) assert.equal(replayableOnStale(m, {}), false, m);
  assert.equal(replayableOnStale('POST', { 'idempotency-key': 'k1' }), true);
  assert.equal(replayableOnStale('POST', { 'x-idempotency-key': 'k1' }), true);
});

test('hop-by-hop headers and those the Connection header names are not forwarded', () => {
  assert.deepEqual(endToEnd({
    connection: 'keep-alive, X-Hop', 'keep-alive': 'timeout=5', 'x-hop': '1', te: 'trailers', upgrade: 'h2c',
    'transfer-encoding': 'chunked', 'proxy-connection': 'x', 'content-length': '3', 'x-end': '2',
  }), { 'content-length': '3', 'x-end': '2' });
});

test('the 503 text after no response headers is Envoy\'s, saying when the request was retried', () => {
  assert.equal(resetReplyText(false, false), 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
  assert.equal(resetReplyText(true, false), 'upstream connect error or disconnect/reset before headers. reset reason: connection termination');
  assert.equal(resetReplyText(false, true), 'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection failure');
});

test('an attempt whose path or headers Node refuses settles as failed instead of throwing', async () => {
  const agent = new https.Agent();
  const base = {
    agent, to: { host: '127.0.0.1', port: 1 }, secureContext: tls.createSecureContext(), method: 'GET', body: Buffer.alloc(0),
    deadline: Promise.resolve(Infinity), signal: new AbortController().signal, connectTimeoutMs: 1_000,
  };
  try {
    const bad = await attempt({ ...base, path: '/', headers: { 'x-a': 'b\r\nx-smuggled: 1' } });
    assert.equal(bad.kind, 'failed');
    const path = await attempt({ ...base, path: '/x HTTP/1.1\r\n', headers: {} });
    assert.equal(path.kind, 'failed');
  } finally {
    agent.destroy();
  }
});
