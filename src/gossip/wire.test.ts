// The wire under serf_*_allowed_cidrs, as memberlist's CIDRsAllowed: only alive messages are
// checked by their packet's source; pings, acks and rumours, and streams, come from anywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log.ts';
import { BroadcastQueue } from './broadcast-queue.ts';
import type { PacketMsg, StreamMsg } from './messages.ts';
import type { Transport, TransportHandlers } from './transport.ts';
import { Wire } from './wire.ts';
import type { Address } from './address.ts';

function fakeTransport() {
  const sent: Buffer[] = [];
  let handlers: TransportHandlers | undefined;
  const t = {
    start: async (h: TransportHandlers) => { handlers = h; },
    address: () => ({ host: '127.0.0.1', port: 1 }),
    sendPacket: (_to: Address, data: Buffer) => { sent.push(data); },
    request: async () => Buffer.alloc(0),
    close: async () => {},
  } as unknown as Transport;
  return { t, sent, handlers: () => handlers! };
}

const security = { keyring: undefined, verifyIncoming: false, verifyOutgoing: false };
const wire = (t: Transport, allowed: ((h: string) => boolean) | null) =>
  new Wire({ transport: t, queue: new BroadcastQueue(() => 1), security, log: silentLogger(), udpBufferSize: 1400, tcpTimeoutMs: 1000, allowed });

test('from a source outside the allowed networks, acks and pings are taken and alive messages dropped', async () => {
  const a = fakeTransport();
  const b = fakeTransport();
  const sender = wire(a.t, null);
  const receiver = wire(b.t, (h) => h === '10.0.0.5');
  const got: PacketMsg[] = [];
  await receiver.start({ packet: (m) => { got.push(m); }, stream: async (m) => m });
  sender.send({ host: '10.0.0.9', port: 8301 }, [
    { t: 'ack', seq: 7 },
    { t: 'alive', node: 'n1', host: '10.0.0.5', port: 8301, tags: {}, inc: 1 },
  ]);
  b.handlers().packet(a.sent[0], { host: '127.0.0.1', port: 8301 });
  assert.deepEqual(got.map((m) => m.t), ['ack']);
  got.length = 0;
  b.handlers().packet(a.sent[0], { host: '10.0.0.5', port: 8301 });
  assert.deepEqual(got.map((m) => m.t), ['ack', 'alive']);
});

test('a stream from a source outside the allowed networks is answered', async () => {
  const a = fakeTransport();
  const b = fakeTransport();
  const receiver = wire(b.t, () => false);
  const seen: StreamMsg[] = [];
  await receiver.start({ packet: () => {}, stream: async (m) => { seen.push(m); return { t: 'error', error: 'fine' }; } });
  // Encode a request as the sender's wire would.
  let raw: Buffer | undefined;
  const sender = wire({ ...a.t, request: async (_to: Address, data: Buffer) => { raw = data; return Buffer.alloc(0); } } as unknown as Transport, null);
  await sender.request({ host: '10.0.0.1', port: 1 }, { t: 'key', op: 'list' }).catch(() => {});
  const answer = await b.handlers().stream(raw!, { host: '127.0.0.1', port: 9 });
  assert.ok(answer.length > 0);
  assert.deepEqual(seen.map((m) => m.t), ['key']);
});
