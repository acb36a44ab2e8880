// User events on a single agent: fire with payload and filters, list with Consul's index
// (XOR of the last event UUID's halves), blocking until a new event, size limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent } from './support/agent.ts';
import { eventIndex } from '../src/agent/events.ts';

test('fire, list, filters, index and blocking', async () => {
  const dev = await startDevAgent();
  const base = `http://${dev.httpAddr}`;
  try {
    const fire = async (path: string, body?: string) => (await fetch(`${base}/v1/event/fire/${path}`, { method: 'PUT', body })).json() as Promise<{ ID: string; Name: string; Payload: string | null; Version: number }>;
    const a = await fire('deploy', 'v42');
    assert.equal(a.Name, 'deploy');
    assert.equal(Buffer.from(a.Payload!, 'base64').toString(), 'v42');
    assert.equal(a.Version, 1);
    await fire('other?node=nomatch-.*');
    const res = await fetch(`${base}/v1/event/list`);
    const list = (await res.json()) as { ID: string; Name: string; LTime: number }[];
    assert.deepEqual(list.map((e) => e.Name), ['deploy'], 'a node filter that does not match this node drops the event');
    assert.equal(res.headers.get('x-consul-index'), eventIndex(a.ID));
    const hex = a.ID.replaceAll('-', '');
    assert.equal(eventIndex(a.ID), (BigInt(`0x${hex.slice(0, 16)}`) ^ BigInt(`0x${hex.slice(16)}`)).toString());

    const waiting = fetch(`${base}/v1/event/list?index=${eventIndex(a.ID)}&wait=5s`);
    await new Promise((r) => setTimeout(r, 50));
    const b = await fire('deploy', 'v43');
    const woke = await waiting;
    assert.equal(woke.headers.get('x-consul-index'), eventIndex(b.ID));
    assert.deepEqual(((await (await fetch(`${base}/v1/event/list?name=deploy`)).json()) as unknown[]).length, 2);

    const big = await fetch(`${base}/v1/event/fire/big`, { method: 'PUT', body: 'x'.repeat(600) });
    assert.equal(big.status, 500);
    assert.match(await big.text(), /exceeds configured limit of 512 bytes/);
  } finally {
    await dev.stop();
  }
});
