// Gossip transports: real UDP+TCP on 127.0.0.1 and the in-memory network with loss and
// partitions on a ManualClock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../src/clock.ts';
import { createNetTransport } from '../src/gossip/transport-net.ts';
import { MemoryNetwork } from '../src/gossip/transport-memory.ts';
import type { Address } from '../src/gossip/address.ts';

test('net transport: UDP datagram and TCP request/response on one port', async () => {
  const a = createNetTransport({ bindAddr: '127.0.0.1', bindPort: 0 });
  const b = createNetTransport({ bindAddr: '127.0.0.1', bindPort: 0 });
  const got: Array<{ data: string; from: Address }> = [];
  let onPacket: () => void = () => {};
  const arrived = new Promise<void>((r) => { onPacket = r; });
  await a.start({ packet: () => {}, stream: async () => Buffer.alloc(0) });
  await b.start({
    packet: (data, from) => { got.push({ data: data.toString(), from }); onPacket(); },
    stream: async (data) => Buffer.from(`echo:${data.toString()}`),
  });
  try {
    assert.notEqual(b.address().port, 0);
    a.sendPacket(b.address(), Buffer.from('ping'));
    await arrived;
    assert.equal(got[0].data, 'ping');
    assert.equal(got[0].from.port, a.address().port, 'replies can go back to the sender port');
    const big = Buffer.alloc(200_000, 'x');
    const resp = await a.request(b.address(), big, 2000);
    assert.equal(resp.length, big.length + 5);
    await assert.rejects(a.request({ host: '127.0.0.1', port: 1 }, Buffer.from('x'), 1000), /ECONNREFUSED/);
  } finally {
    await a.close();
    await b.close();
  }
});

test('memory network: delivery on the clock, loss, partition and refused streams', async () => {
  const clock = new ManualClock();
  const net = new MemoryNetwork(clock, { latencyMs: 5, random: () => 0.5 });
  const a = net.transport('10.0.0.1', 8301);
  const b = net.transport('10.0.0.2', 8301);
  const got: string[] = [];
  await a.start({ packet: () => {}, stream: async () => Buffer.alloc(0) });
  await b.start({ packet: (d) => got.push(d.toString()), stream: async (d) => Buffer.from(`re:${d}`) });
  a.sendPacket(b.address(), Buffer.from('one'));
  clock.advance(4);
  assert.deepEqual(got, []);
  clock.advance(1);
  assert.deepEqual(got, ['one']);

  net.setLoss(0.6);
  a.sendPacket(b.address(), Buffer.from('lost'));
  clock.advance(10);
  assert.deepEqual(got, ['one']);
  net.setLoss(0);

  net.partition([a.address()], [b.address()]);
  a.sendPacket(b.address(), Buffer.from('cut'));
  const cut = a.request(b.address(), Buffer.from('q'), 100);
  clock.advance(100);
  await assert.rejects(cut, /i\/o timeout/);
  net.heal();
  const ok = a.request(b.address(), Buffer.from('q'), 100);
  clock.advance(5);
  await new Promise((r) => setImmediate(r));
  clock.advance(5);
  assert.equal((await ok).toString(), 're:q');
  assert.deepEqual(got, ['one']);

  await b.close();
  const refused = a.request(b.address(), Buffer.from('q'), 100);
  clock.advance(5);
  await assert.rejects(refused, /connection refused/);
});
