// The acceptor's side of the peer stream without sockets, on a manual clock: the secret exchange,
// a stream that sends heartbeats and what the exported-services entry exports (again on change),
// pushes from the dialer stored as imports, the incoming heartbeat timeout, and `terminated`
// once the peering is deleted.
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { Replica, configEntryKey, encodeRecord } from '../state/index.ts';
import { MemoryStore } from '../store/index.ts';
import { soloLeadership, type EndpointDeps } from '../endpoint/deps.ts';
import { defaultQueryOptions } from '../endpoint/query.ts';
import { PeeringEndpoint } from '../endpoint/peering.ts';
import { PeeringTracker } from '../endpoint/peering-tracker.ts';
import { CatalogEndpoint } from '../endpoint/catalog.ts';
import { decodePeeringToken } from '../endpoint/peering-token.ts';
import type { HttpRequest } from '../http/request.ts';
import { peerStreamHandlers, type PeerMessage } from './peer-stream.ts';

async function acceptor() {
  const clock = new ManualClock(Date.parse('2026-01-02T03:04:05Z'));
  const store = new MemoryStore({ clock });
  await store.open();
  const logger = silentLogger();
  const replica = new Replica({ store, clock, logger });
  await replica.start();
  const deps: EndpointDeps = {
    store, replica, clock, logger, leadership: soloLeadership('127.0.0.1:8300'), random: Math.random,
    config: { datacenter: 'dc1', nodeName: 'n1', kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, defaultQueryTime: 300_000, maxQueryTime: 600_000, sessionTtlMin: 10_000 },
  };
  const peering = new PeeringEndpoint(deps, {
    tracker: new PeeringTracker(clock), serverAddresses: () => ['127.0.0.1:8500'], caPems: () => null,
    exchange: () => Promise.reject(new Error('the acceptor does not dial')),
  });
  const handlers = peerStreamHandlers({ epDeps: deps, peering, clock, logger, remote: { Partition: 'default', Datacenter: 'dc1' } });
  const exportWeb = () => store.txn({
    compares: [],
    success: [{ type: 'put', key: configEntryKey('exported-services', 'default'), value: encodeRecord({ Kind: 'exported-services', Name: 'default', Services: [{ Name: 'web', Consumers: [{ Peer: 'west' }] }] }) }],
  });
  return { clock, replica, peering, handlers, catalog: new CatalogEndpoint(deps), exportWeb, stop: () => replica.stop() };
}

function request(headers: Record<string, string>, body: unknown = undefined, signal = new AbortController().signal): HttpRequest {
  return {
    method: 'POST', path: '/', params: { rest: '' }, query: new URLSearchParams(), headers, remoteAddr: '127.0.0.1', signal,
    body: async () => Buffer.from(body === undefined ? '' : JSON.stringify(body)),
  };
}

/** Waits until `lines` holds a message matching `pred` (the stream writes from timers and wake-ups). */
async function next(lines: PeerMessage[], pred: (m: PeerMessage) => boolean, from: number): Promise<PeerMessage> {
  for (let i = 0; i < 200; i++) {
    const m = lines.slice(from).find(pred);
    if (m) return m;
    await tick();
  }
  throw new Error(`no matching message in ${JSON.stringify(lines.slice(from))}`);
}

test('the acceptor streams its exports and heartbeats, stores pushes, and ends a silent stream', async () => {
  const s = await acceptor();
  try {
    const tok = decodePeeringToken((await s.peering.generateToken({ PeerName: 'west' })).PeeringToken);
    const ex = await s.handlers.exchange(request({}, { PeerID: tok.PeerID, EstablishmentSecret: tok.EstablishmentSecret }));
    const secret = (ex.body as { StreamSecret: string }).StreamSecret;
    await assert.rejects(s.handlers.exchange(request({}, { PeerID: tok.PeerID, EstablishmentSecret: tok.EstablishmentSecret })), { code: 'permission_denied' });
    const creds = { 'x-proconsul-peer-id': tok.PeerID, 'x-proconsul-stream-secret': secret, 'x-proconsul-peer-remote': '{"Partition":"default","Datacenter":"dc2"}' };
    await assert.rejects(s.handlers.stream(request({ ...creds, 'x-proconsul-stream-secret': 'wrong' })), { message: 'invalid peering stream secret' });

    const res = await s.handlers.stream(request(creds));
    const lines: PeerMessage[] = [];
    const leave = new AbortController();
    const done = res.stream!((chunk) => lines.push(JSON.parse(String(chunk)) as PeerMessage), leave.signal);
    assert.deepEqual(lines.slice(0, 2), [{ Type: 'heartbeat' }, { Type: 'exports', Services: {} }]);
    assert.equal((await s.peering.read('west', defaultQueryOptions())).value.State, 'ACTIVE');

    const mark = lines.length;
    await s.catalog.register({ Node: 'n2', Address: '10.0.0.2', Service: { Service: 'web', Port: 80 } } as never);
    await s.exportWeb();
    const exported = await next(lines, (m) => m.Type === 'exports' && Object.keys(m.Services).length > 0, mark) as Extract<PeerMessage, { Type: 'exports' }>;
    assert.deepEqual(exported.Services.web.map((n) => n.Node.Node), ['n2']);
    assert.deepEqual((await s.peering.read('west', defaultQueryOptions())).value.StreamStatus.ExportedServices, ['web']);

    // A push from the dialer is stored as imports under the peering's name.
    const pushed = await s.handlers.push(request(creds, { Type: 'exports', Services: { api: [exported.Services.web[0]] } }));
    assert.deepEqual(pushed.body, {});
    assert.deepEqual(s.replica.peerImports.ofPeer('west').map((r) => r.Service), ['api']);

    const beats = lines.length;
    s.clock.advance(15_000);
    assert.deepEqual(lines.slice(beats), [{ Type: 'heartbeat' }]);
    // No push for longer than the heartbeat timeout: the acceptor ends the stream.
    for (let i = 0; i < 9; i++) s.clock.advance(15_000);
    await done;
    const failing = (await s.peering.read('west', defaultQueryOptions())).value;
    assert.equal(failing.State, 'FAILING');
    leave.abort();
  } finally {
    s.stop();
  }
});

test('a stream whose peering is deleted says terminated and ends; pushes then get 410', async () => {
  const s = await acceptor();
  try {
    const tok = decodePeeringToken((await s.peering.generateToken({ PeerName: 'west' })).PeeringToken);
    const secret = (await s.peering.exchangeSecret(tok.PeerID, tok.EstablishmentSecret));
    const creds = { 'x-proconsul-peer-id': tok.PeerID, 'x-proconsul-stream-secret': secret };
    const lines: PeerMessage[] = [];
    const done = (await s.handlers.stream(request(creds))).stream!((c) => lines.push(JSON.parse(String(c)) as PeerMessage), new AbortController().signal);
    await s.peering.delete('west');
    await done;
    assert.deepEqual(lines.at(-1), { Type: 'terminated' });
    const push = await s.handlers.push(request(creds, { Type: 'heartbeat' }));
    assert.equal(push.status, 410);
  } finally {
    s.stop();
  }
});

test('malformed pushes and stream headers are refused with 400 (or ignored) and store nothing', async () => {
  const s = await acceptor();
  try {
    const tok = decodePeeringToken((await s.peering.generateToken({ PeerName: 'west' })).PeeringToken);
    const ex = await s.handlers.exchange(request({}, { PeerID: tok.PeerID, EstablishmentSecret: tok.EstablishmentSecret }));
    const creds = { 'x-proconsul-peer-id': tok.PeerID, 'x-proconsul-stream-secret': (ex.body as { StreamSecret: string }).StreamSecret };
    const node = { Node: 'n1', Address: '10.0.0.1' };
    const svc = { ID: 'web-1', Service: 'web', Tags: [], Port: 80 };
    const bad: unknown[] = [
      null, 123, 'garbage', [], {}, { Type: 'nonsense' }, { Type: 'exports' }, { Type: 'exports', Services: 'x' },
      { Type: 'exports', Services: { web: 'x' } }, { Type: 'exports', Services: { web: [null] } }, { Type: 'exports', Services: { web: [{}] } },
      { Type: 'exports', Services: { web: [{ Node: {}, Service: {} }] } },
      { Type: 'exports', Services: { web: [{ Node: { ...node, Node: 5 }, Service: svc, Checks: [] }] } },
      { Type: 'exports', Services: { web: [{ Node: node, Service: { ...svc, Tags: 'x' }, Checks: [] }] } },
      { Type: 'exports', Services: { web: [{ Node: node, Service: svc, Checks: 'x' }] } },
      { Type: 'exports', Services: { web: [{ Node: node, Service: svc, Checks: [null] }] } },
    ];
    for (const body of bad) {
      await assert.rejects(s.handlers.push(request(creds, body)), { code: 'bad_request', message: /^malformed peering message: / }, JSON.stringify(body));
    }
    assert.deepEqual(s.replica.peerImports.ofPeer('west'), []);
    assert.equal(s.peering.tracker.get(tok.PeerID)?.lastReceive ?? null, null, 'a refused message is not counted as received');
    // A well-formed one is stored.
    await s.handlers.push(request(creds, { Type: 'exports', Services: { web: [{ Node: node, Service: svc, Checks: [] }] } }));
    assert.deepEqual(s.replica.peerImports.ofPeer('west').map((r) => r.Service), ['web']);

    // A remote header that is JSON but not an object is ignored, not a 500.
    for (const remote of ['null', '5', '"x"', '[1]', '{']) {
      const res = await s.handlers.stream(request({ ...creds, 'x-proconsul-peer-remote': remote }));
      const leave = new AbortController();
      const done = res.stream!(() => {}, leave.signal);
      leave.abort();
      await done;
    }
  } finally {
    s.stop();
  }
});

test('a dialer that stops reading gets one fresh exports set when it drains, not a queue of every change', async () => {
  const s = await acceptor();
  try {
    const tok = decodePeeringToken((await s.peering.generateToken({ PeerName: 'west' })).PeeringToken);
    const secret = await s.peering.exchangeSecret(tok.PeerID, tok.EstablishmentSecret);
    const creds = { 'x-proconsul-peer-id': tok.PeerID, 'x-proconsul-stream-secret': secret };
    await s.exportWeb();
    const lines: PeerMessage[] = [];
    // The first heartbeat and exports go out; from then on the connection's buffer is full.
    let release!: () => void;
    let draining = new Promise<void>((r) => { release = r; });
    const leave = new AbortController();
    const res = await s.handlers.stream(request(creds));
    let full = false;
    const done = res.stream!((c) => {
      lines.push(JSON.parse(String(c)) as PeerMessage);
      if (lines.length === 2) full = true;
      return !full;
    }, leave.signal, () => draining);
    await next(lines, (m) => m.Type === 'exports', 0);
    const before = lines.filter((m) => m.Type === 'exports').length;
    for (let i = 0; i < 20; i++) {
      await s.catalog.register({ Node: `n${i}`, Address: '10.0.0.2', Service: { Service: 'web', Port: 80 } } as never);
      await tick();
    }
    s.clock.advance(15_000);
    assert.equal(lines.filter((m) => m.Type === 'exports').length, before, 'nothing more is written while the dialer is not reading');
    assert.equal(lines.filter((m) => m.Type === 'heartbeat').length, 1, 'not even heartbeats');
    draining = new Promise<void>(() => {});
    full = false;
    release();
    const fresh = await next(lines, (m) => m.Type === 'exports' && (m.Services.web?.length ?? 0) === 20, before) as Extract<PeerMessage, { Type: 'exports' }>;
    assert.equal(fresh.Services.web.length, 20);
    assert.equal(lines.filter((m) => m.Type === 'exports').length, before + 1, 'one snapshot with everything that changed');
    // A dialer that leaves while the acceptor waits for a drain (that never comes) ends the stream.
    full = true;
    await s.catalog.register({ Node: 'late-1', Address: '10.0.0.3', Service: { Service: 'web', Port: 80 } } as never);
    await next(lines, (m) => m.Type === 'exports' && m.Services.web?.length === 21, before + 1);
    await s.catalog.register({ Node: 'late-2', Address: '10.0.0.3', Service: { Service: 'web', Port: 80 } } as never);
    for (let i = 0; i < 5; i++) await tick();
    leave.abort();
    await done;
    assert.equal(s.peering.tracker.get(tok.PeerID)?.connected, false);
  } finally {
    s.stop();
  }
});
