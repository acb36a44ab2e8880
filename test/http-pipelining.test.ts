// HTTP/1.1 pipelining against a real agent: a request queued behind an unanswered one (its answer
// waits for the first's) ends with its client like the first. node:http on Node 24 closes such a
// queued response when the socket closes; Node 22 does not, so there the agent hears it from the
// request. CI runs Node 24; to run on Node 22 (package.json allows >=22.13):
//   npx -y -p node@22.13 node --experimental-strip-types --no-warnings --test test/http-pipelining.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startDevAgent } from './support/agent.ts';
import { waitFor } from './support/wait.ts';

test('a client that leaves with two pipelined blocking queries ends both', async () => {
  const dev = await startDevAgent();
  const { replica } = dev.agent;
  const own = replica.notifier.blocked;
  const [host, port] = dev.httpAddr.split(':');
  let sock: net.Socket | undefined;
  try {
    const kv = await fetch(`http://${dev.httpAddr}/v1/kv/pipelined`);
    const services = await fetch(`http://${dev.httpAddr}/v1/catalog/services`);
    const get = (path: string, index: string | null) => `GET ${path}?index=${index}&wait=30s HTTP/1.1\r\nHost: x\r\n\r\n`;
    sock = net.connect(Number(port), host);
    await once(sock, 'connect');
    sock.write(get('/v1/kv/pipelined', kv.headers.get('X-Consul-Index')) + get('/v1/catalog/services', services.headers.get('X-Consul-Index')));
    await waitFor('both pipelined queries to block', () => replica.notifier.blocked === own + 2, { ms: 5000 });
    sock.destroy();
    await waitFor('both pipelined queries to end with their client', () => replica.notifier.blocked === own, { ms: 2000 });
    assert.equal(replica.notifier.blocked, own);
  } finally {
    sock?.destroy();
    await dev.stop();
  }
});
