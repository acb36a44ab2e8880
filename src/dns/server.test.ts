// The UDP listener's batched replies: every query of a burst gets its reply, to its own sender,
// answered-now replies and handler-awaited ones alike; closing the server with replies still
// waiting for their batch neither throws nor sends.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { DnsServer } from './server.ts';
import { silentLogger } from '../log.ts';

/** A handler that answers now with the query's id and a QR flag, or later (through handle) for ids over 1000. */
const handler = {
  answerNow: (msg: Buffer): Buffer | null | undefined => (msg.readUInt16BE(0) > 1000 ? undefined : reply(msg)),
  handle: async (msg: Buffer): Promise<Buffer | null> => reply(msg),
};
function reply(msg: Buffer): Buffer {
  const out = Buffer.from(msg);
  out[2] |= 0x80;
  return out;
}
const query = (id: number): Buffer => {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  return b;
};

async function client(): Promise<{ sock: dgram.Socket; got: number[] }> {
  const sock = dgram.createSocket('udp4');
  const got: number[] = [];
  sock.on('message', (m) => got.push(m.readUInt16BE(0)));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { sock, got };
}

test('a burst of queries from two clients: each gets every one of its replies', async () => {
  const server = new DnsServer({ handler, logger: silentLogger() });
  await server.listen([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  const port = Number(server.addresses().udp[0].split(':')[1]);
  const a = await client();
  const b = await client();
  try {
    const ids = (from: number): number[] => Array.from({ length: 150 }, (_, i) => from + i);
    for (const id of [...ids(1), 1001, 1002]) a.sock.send(query(id), port, '127.0.0.1');
    for (const id of ids(500)) b.sock.send(query(id), port, '127.0.0.1');
    const deadline = Date.now() + 5_000;
    while ((a.got.length < 152 || b.got.length < 150) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual([...a.got].sort((x, y) => x - y), [...ids(1), 1001, 1002]);
    assert.deepEqual([...b.got].sort((x, y) => x - y), ids(500));
  } finally {
    a.sock.close();
    b.sock.close();
    await server.close();
  }
});

test('closing with replies waiting for their batch does not throw', async () => {
  const server = new DnsServer({ handler, logger: silentLogger() });
  await server.listen([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  const port = Number(server.addresses().udp[0].split(':')[1]);
  const a = await client();
  let answered = 0;
  const { answerNow } = handler;
  // Close the server from inside the burst: the replies queued so far are still waiting for their batch.
  handler.answerNow = (msg: Buffer) => {
    if (++answered === 5) void server.close();
    return answerNow(msg);
  };
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    for (let id = 1; id <= 20; id++) a.sock.send(query(id), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    process.off('uncaughtException', onUncaught);
    handler.answerNow = answerNow;
    a.sock.close();
  }
  assert.deepEqual(uncaught, []);
  assert.ok(answered >= 5);
});

test('a datagram from source port 0 (send throws ERR_SOCKET_BAD_PORT) is dropped; replies to others go on, answered now or later', async () => {
  // Capture the listener's socket to deliver a datagram no real client can send from loopback.
  const created: dgram.Socket[] = [];
  const createSocket = dgram.createSocket;
  dgram.createSocket = ((...args: Parameters<typeof createSocket>) => {
    const s = createSocket(...args);
    created.push(s);
    return s;
  }) as typeof createSocket;
  const server = new DnsServer({ handler, logger: silentLogger() });
  try {
    await server.listen([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  } finally {
    dgram.createSocket = createSocket;
  }
  const port = Number(server.addresses().udp[0].split(':')[1]);
  const a = await client();
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => void unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    const rinfo = { address: '127.0.0.1', family: 'IPv4' as const, port: 0, size: 12 };
    created[0].emit('message', query(7), rinfo);
    created[0].emit('message', query(1007), rinfo);
    await new Promise((r) => setTimeout(r, 50));
    a.sock.send(query(8), port, '127.0.0.1');
    a.sock.send(query(1008), port, '127.0.0.1');
    const deadline = Date.now() + 5_000;
    while (a.got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual([...a.got].sort((x, y) => x - y), [8, 1008]);
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    a.sock.close();
    await server.close();
  }
});
