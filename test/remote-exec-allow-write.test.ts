// Remote exec on an agent whose allow_write_http_from leaves out 127.0.0.1: the agent's own KV
// writes (ack, output, exit) are not HTTP clients (Consul makes them as RPCs), so the list must
// not refuse them. The operator's calls come from 127.0.0.2, the one address the list allows.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';

let dev: DevAgent;
before(async () => {
  dev = await startDevAgent({ config: { raw: { disable_remote_exec: false }, http: { ...devConfig().http, allowWriteHttpFrom: ['127.0.0.2/32'] } } });
});
after(() => dev.stop());

function call(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  const [host, port] = dev.httpAddr.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method, path, localAddress: '127.0.0.2' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the job is acknowledged, run and its exit code written', async () => {
  const s = await call('PUT', '/v1/session/create', JSON.stringify({ Name: 'Remote Exec', Behavior: 'delete', TTL: '15s' }));
  assert.equal(s.status, 200, s.body);
  const session = (JSON.parse(s.body) as { ID: string }).ID;
  const job = await call('PUT', `/v1/kv/_rexec/${session}/job?acquire=${session}`, JSON.stringify({ Command: 'echo hi', Wait: 1e9 }));
  assert.equal(job.body, 'true');
  const fired = await call('PUT', '/v1/event/fire/_rexec', JSON.stringify({ Prefix: '_rexec', Session: session }));
  assert.equal(fired.status, 200, fired.body);
  const node = dev.agent.config.nodeName;
  let exit: { status: number; body: string } = { status: 0, body: '' };
  for (let i = 0; i < 200; i++) {
    exit = await call('GET', `/v1/kv/_rexec/${session}/${node}/exit?raw`);
    if (exit.status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(exit, { status: 200, body: '0' });
  assert.equal((await call('GET', `/v1/kv/_rexec/${session}/${node}/out/00000?raw`)).body, 'hi\n');
});
