// The internal RPC server's HTTP handling (createRpcServer): what differs from the HTTP API's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log.ts';
import { Router } from '../http/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { createRpcServer } from './rpc-server.ts';

test('a forwarded path with an unprintable character is served: the filter is the HTTP API\'s, already applied by the agent that took the request', async () => {
  // Consul's PrintablePathCheckHandler wraps the HTTP mux only; RPCs carry the decoded key. A client
  // agent (or a follower) with disable_http_unprintable_char_filter forwards such a KV key here.
  const router = new Router().route('GET', '/v1/kv/*', async (r) => ({ body: r.params.rest }));
  const dns = { handle: async () => null };
  const config = { bindAddr: '127.0.0.1', ports: { server: 0 }, acl: { defaultPolicy: 'allow' } } as unknown as RuntimeConfig;
  const rpc = createRpcServer({ config, router, dns, dnsFor: () => dns, logger: silentLogger() });
  const res = await rpc.http.handle({ method: 'GET', url: '/v1/kv/a%01b' });
  assert.equal(res.status, 200);
  assert.equal(res.json(), 'a\u0001b');
});
