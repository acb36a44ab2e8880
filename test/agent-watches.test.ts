// The agent's `watches` end to end: a real dev agent runs a key watch whose script handler
// (`args`) appends CONSUL_INDEX and the JSON it reads to a file, and a keyprefix watch with an
// HTTP handler posting to a loopback server (method, headers, X-Consul-Index); a reload swaps
// the watches; invalid watches fail with Consul's messages.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsulClient } from '../src/api/index.ts';
import { devConfig, startDevAgent, type DevAgent } from './support/agent.ts';
import { parseAgentWatch } from '../src/agent/watches.ts';

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('agent watches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-agent-watch-'));
  const log = join(dir, 'calls.log');
  const posts: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let server: Server;
  let hook = '';
  let dev: DevAgent;
  let client: ConsulClient;

  /** The script handler's calls: CONSUL_INDEX and the parsed JSON of each. */
  function calls(): { index: number; data: any }[] {
    if (!existsSync(log)) return [];
    return readFileSync(log, 'utf8').split('\n').slice(0, -1).filter(Boolean).map((line) => {
      const [index, json] = line.split('\t');
      return { index: Number(index), data: JSON.parse(json) };
    });
  }

  const watches = () => [
    { type: 'key', key: 'app/config', args: ['/bin/sh', '-c', `printf '%s\\t' "$CONSUL_INDEX" >> ${log}; cat >> ${log}`] },
    {
      type: 'keyprefix', prefix: 'web/', handler_type: 'http',
      // As HCL decodes blocks: one-element lists of maps.
      http_handler_config: [{ path: `${hook}/hook?x=1`, method: 'PUT', header: [{ 'X-Token': ['abc', 'def'] }], timeout: '5s' }],
    },
  ];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        posts.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address() as { port: number };
    hook = `http://127.0.0.1:${a.port}`;
    dev = await startDevAgent({ config: { raw: { watches: watches() } } });
    client = new ConsulClient({ address: dev.httpAddr });
  });
  after(async () => {
    client?.close();
    await dev?.stop();
    await new Promise((r) => server.close(r));
  });

  test('a key watch runs its script handler at start and on each change of the key', async () => {
    await until('the initial call', () => calls().length === 1);
    assert.equal(calls()[0].data, null);
    await client.kv.put('app/config', 'one');
    await until('the change', () => calls().length === 2);
    const [, second] = calls();
    assert.equal(second.data.Key, 'app/config');
    assert.equal(Buffer.from(second.data.Value, 'base64').toString(), 'one');
    assert.equal(second.index, second.data.ModifyIndex);
    // Another key moves the index but not the result: no call.
    await client.kv.put('other', 'x');
    await client.kv.put('app/config', 'two');
    await until('the second change', () => calls().length === 3);
    assert.equal(Buffer.from(calls()[2].data.Value, 'base64').toString(), 'two');
  });

  test('an http handler gets the result with the method, headers and X-Consul-Index', async () => {
    await until('the initial post', () => posts.length >= 1);
    assert.equal(posts[0].body, 'null\n');
    await client.kv.put('web/a', 'A');
    await until('the post for web/a', () => posts.some((p) => p.body.includes('web/a')));
    const p = posts.find((x) => x.body.includes('web/a'))!;
    assert.equal(p.method, 'PUT');
    assert.equal(p.url, '/hook?x=1');
    assert.equal(p.headers['content-type'], 'application/json');
    assert.equal(p.headers['x-token'], 'abc, def');
    const data = JSON.parse(p.body);
    assert.equal(data[0].Key, 'web/a');
    assert.equal(p.headers['x-consul-index'], String(data[0].ModifyIndex));
  });

  test('a reload stops the old watches and starts the new ones', async () => {
    const before = calls().length;
    await dev.agent.reload(devConfig({ raw: { watches: [watches()[1]] } }));
    await client.kv.put('app/config', 'three');
    // The keyprefix watch still runs: its post for web/b comes after the key write above.
    await client.kv.put('web/b', 'B');
    await until('the post for web/b', () => posts.some((p) => p.body.includes('web/b')));
    assert.equal(calls().length, before);
    await assert.rejects(dev.agent.reload(devConfig({ raw: { watches: [{ type: 'key', key: 'k' }] } })), {
      message: 'Failed reloading watches: Must define a watch handler',
    });
  });
});

describe('watch definitions are checked as Consul checks them', () => {
  const c = () => new ConsulClient({ address: '127.0.0.1:1' });
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ type: 'key', key: 'k' }, /^Must define a watch handler$/],
    [{ type: 'key', key: 'k', handler: 'x', args: ['y'] }, /^Only one watch handler allowed$/],
    [{ type: 'key', key: 'k', handler_type: 'http', args: ['y'], http_handler_config: { path: 'http://x' } }, /^Only one watch handler allowed$/],
    [{ type: 'key', key: 'k', handler_type: 'ftp', args: ['y'] }, /^Handler type 'ftp' not recognized$/],
    [{ type: 'connect_roots', args: ['y'] }, /^Watch type connect_roots is not allowed in agent config$/],
    [{ type: 'key', handler_type: 'http' }, /Handler type 'http' requires 'http_handler_config' to be set$/],
    [{ type: 'key', key: 'k', handler_type: 'http', http_handler_config: {} }, /Requires 'path' to be set$/],
    [{ type: 'key', args: ['y'] }, /^Failed to parse watch .*: Must specify a single key to watch$/],
    [{ type: 'key', key: 'k', args: ['y'], bogus: 1 }, /Invalid parameters: \[bogus\]$/],
    [{ type: 'key', key: 'k', handler: ['y'] }, /^Watch handler must be a string$/],
  ];
  for (const [w, re] of bad) {
    test(JSON.stringify(w), () => {
      const client = c();
      try {
        assert.throws(() => parseAgentWatch(w, () => client), { message: re });
      } finally {
        client.close();
      }
    });
  }

  test('defaults: POST, a 10 s timeout; the legacy handler runs through the shell', () => {
    const client = c();
    try {
      const h = parseAgentWatch({ type: 'services', handler_type: 'http', http_handler_config: { path: 'http://x/' } }, () => client);
      assert.deepEqual(h.handler, { kind: 'http', config: { path: 'http://x/', method: 'POST', header: {}, timeoutMs: 10_000, tlsSkipVerify: false } });
      const s = parseAgentWatch({ type: 'services', handler: 'echo hi' }, () => client);
      assert.deepEqual(s.handler, { kind: 'script', args: ['echo hi'], shell: true });
    } finally {
      client.close();
    }
  });
});

test('a client agent runs its watches against its own HTTP API too', async () => {
  const { createClientAgent } = await import('../src/index.ts');
  const { createLogger } = await import('../src/log.ts');
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', json: true, write: (l) => lines.push(l) });
  const agent = createClientAgent(devConfig({
    server: false, bootstrap: false, nodeName: 'lonely', raw: { watches: [{ type: 'services', args: ['/bin/true'] }] },
  }), { logger });
  await agent.start();
  try {
    // No server is known: the plan's first query comes back from the client's forwarder.
    await until('the watch error', () => lines.some((l) => l.includes('Watch errored')));
    const rec = JSON.parse(lines.find((l) => l.includes('Watch errored'))!) as Record<string, string>;
    assert.equal(rec['@module'], 'agent.watch');
    assert.equal(rec.type, 'services');
    assert.match(rec.error, /No known Consul servers/);
    assert.equal(rec.retry, '5s');
  } finally {
    await agent.stop();
  }
});
