// The peering endpoint on two in-process servers (memory stores, the secret exchange wired
// directly between them): states, secrets spent and promoted, the tracker's reconciliation,
// imports stored and read with ?peer=, and deletion in its two steps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { DEFAULT_ENT, Replica } from '../state/index.ts';
import { MemoryStore } from '../store/index.ts';
import { soloLeadership, type EndpointDeps } from './deps.ts';
import { defaultQueryOptions } from './query.ts';
import { PeeringEndpoint } from './peering.ts';
import { PeeringTracker } from './peering-tracker.ts';
import { importedHealth, storeImports } from './peering-imports.ts';
import { decodePeeringToken } from './peering-token.ts';
import type { CheckServiceNode } from '../api/catalog-types.ts';

async function server(dc: string, exchange: (peerId: string, secret: string) => Promise<string>) {
  const clock = new ManualClock(Date.parse('2026-01-02T03:04:05.678Z'));
  const store = new MemoryStore({ clock });
  await store.open();
  const logger = silentLogger();
  const replica = new Replica({ store, clock, logger });
  await replica.start();
  const deps: EndpointDeps = {
    store, replica, clock, logger, leadership: soloLeadership('127.0.0.1:8300'), random: Math.random,
    config: { datacenter: dc, nodeName: 'n1', kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, defaultQueryTime: 300_000, maxQueryTime: 600_000, sessionTtlMin: 10_000 },
  };
  const tracker = new PeeringTracker(clock);
  const peering = new PeeringEndpoint(deps, {
    tracker, serverAddresses: () => [`127.0.0.1:85${dc.slice(-1)}0`], caPems: () => null,
    exchange: (p, secret) => exchange(p.PeerID ?? '', secret),
  });
  const read = async (name: string) => (await peering.read(name, defaultQueryOptions())).value;
  return { deps, replica, peering, tracker, clock, read, stop: () => replica.stop() };
}

async function pair() {
  const a = await server('dc1', () => Promise.reject(new Error('A never dials')));
  const b = await server('dc2', (id, secret) => a.peering.exchangeSecret(id, secret));
  return { a, b, stop: () => { a.stop(); b.stop(); } };
}

const instance = (node: string, status: string): CheckServiceNode => ({
  Node: { ID: '', Node: node, Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: null, Meta: null, CreateIndex: 5, ModifyIndex: 6 },
  Service: { ID: 'web-1', Service: 'web', Tags: [], Address: '', Meta: {}, Port: 80, Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, CreateIndex: 5, ModifyIndex: 6 },
  Checks: [{ Node: node, CheckID: 'c', Name: 'c', Status: status, Notes: '', Output: '', ServiceID: 'web-1', ServiceName: 'web', ServiceTags: [], Type: '', Definition: {}, CreateIndex: 5, ModifyIndex: 6 }],
} as unknown as CheckServiceNode);

test('a token makes a PENDING acceptor peering; establishing spends its secret and leaves the dialer ESTABLISHING', async () => {
  const { a, b, stop } = await pair();
  try {
    const { PeeringToken } = await a.peering.generateToken({ PeerName: 'west', Meta: { env: 'x' } });
    const tok = decodePeeringToken(PeeringToken);
    assert.deepEqual(tok.ServerAddresses, ['127.0.0.1:8510']);
    assert.deepEqual(tok.Remote, { Partition: 'default', Datacenter: 'dc1' });
    const acceptor = await a.read('west');
    assert.equal(acceptor.State, 'PENDING');
    assert.equal(acceptor.ID, tok.PeerID);
    assert.deepEqual(acceptor.Meta, { env: 'x' });
    assert.deepEqual(acceptor.StreamStatus, { ImportedServices: null, ExportedServices: null, LastHeartbeat: null, LastReceive: null, LastSend: null });

    // A second token for the same name keeps the peering and replaces the unused secret.
    const again = decodePeeringToken((await a.peering.generateToken({ PeerName: 'west' })).PeeringToken);
    assert.equal(again.PeerID, tok.PeerID);
    assert.notEqual(again.EstablishmentSecret, tok.EstablishmentSecret);
    await assert.rejects(b.peering.establish({ PeerName: 'east', PeeringToken: PeeringToken }), { message: 'a new peering token must be generated: invalid peering establishment secret', code: 'permission_denied' });
    // Consul's acceptor answers an unknown peering as a wrong secret (PermissionDenied, same text).
    await assert.rejects(a.peering.exchangeSecret('no-such-peering', 'x'), { message: 'invalid peering establishment secret', code: 'permission_denied' });

    const fresh = (await a.peering.generateToken({ PeerName: 'west' })).PeeringToken;
    assert.deepEqual(await b.peering.establish({ PeerName: 'east', PeeringToken: fresh }), {});
    const dialer = await b.read('east');
    assert.equal(dialer.State, 'ESTABLISHING');
    assert.equal(dialer.PeerID, tok.PeerID);
    assert.deepEqual(dialer.PeerServerAddresses, ['127.0.0.1:8510']);
    assert.deepEqual(dialer.Remote, { Partition: 'default', Datacenter: 'dc1' });
    const streamSecret = b.replica.peeringSecrets.get(dialer.ID)?.ActiveStream;
    assert.ok(streamSecret);
    assert.equal(a.replica.peeringSecrets.get(tok.PeerID)?.PendingStream, streamSecret);
    assert.equal(a.replica.peeringSecrets.get(tok.PeerID)?.Establishment, undefined);
    await assert.rejects(b.peering.establish({ PeerName: 'east2', PeeringToken: fresh }), { message: 'a new peering token must be generated: invalid peering establishment secret', code: 'permission_denied' });

    // The stream's first open promotes the pending secret and records the dialer's datacenter.
    await assert.rejects(a.peering.openStream(tok.PeerID, 'wrong', { Partition: 'default', Datacenter: 'dc2' }), { message: 'invalid peering stream secret' });
    await a.peering.openStream(tok.PeerID, streamSecret, { Partition: 'default', Datacenter: 'dc2' });
    assert.equal(a.replica.peeringSecrets.get(tok.PeerID)?.ActiveStream, streamSecret);
    assert.equal(a.replica.peeringSecrets.get(tok.PeerID)?.PendingStream, undefined);
    assert.deepEqual((await a.read('west')).Remote, { Partition: 'default', Datacenter: 'dc2' });
    // The dialing end holds the same secret but takes no stream.
    await assert.rejects(b.peering.openStream(dialer.ID, streamSecret, { Partition: 'default', Datacenter: 'dc1' }), {
      code: 'bad_request', message: 'expected PeerID to be empty; the wrong end of peering is being dialed',
    });
  } finally {
    stop();
  }
});

test('reads reconcile with the tracker: ACTIVE while connected, FAILING after an error', async () => {
  const { a, stop } = await pair();
  try {
    await a.peering.generateToken({ PeerName: 'west' });
    const id = (await a.read('west')).ID;
    a.tracker.connected(id);
    a.tracker.received(id, true);
    a.tracker.setImported(id, ['web', 'db']);
    let p = await a.read('west');
    assert.equal(p.State, 'ACTIVE');
    assert.deepEqual(p.StreamStatus.ImportedServices, ['db', 'web']);
    assert.equal(p.StreamStatus.LastHeartbeat, '2026-01-02T03:04:05.678Z');
    assert.equal(p.StreamStatus.LastSend, null);
    a.tracker.disconnected(id, 'connection reset');
    p = await a.read('west');
    assert.equal(p.State, 'FAILING');
  } finally {
    stop();
  }
});

test('imports are stored per peer, read with the peer name, and pinned to a live peering', async () => {
  const { a, stop } = await pair();
  try {
    await a.peering.generateToken({ PeerName: 'west' });
    await storeImports(a.deps, 'west', { Services: { web: [instance('n9', 'passing')], db: [] } });
    const rows = (await importedHealth(a.deps, 'west', 'WEB', defaultQueryOptions(), {})).value;
    assert.equal(rows.length, 1);
    assert.equal(rows[0].Node.PeerName, 'west');
    assert.equal(rows[0].Checks[0].PeerName, 'west');
    assert.equal(rows[0].Node.CreateIndex, a.replica.peerImports.service('west', 'web')!.CreateIndex);
    assert.deepEqual(a.replica.peerImports.ofPeer('west').map((r) => r.Service), ['db', 'web']);
    // A second snapshot drops what vanished and leaves unchanged records alone.
    const webIndex = a.replica.peerImports.service('west', 'web')!.ModifyIndex;
    await storeImports(a.deps, 'west', { Services: { web: [instance('n9', 'passing')] } });
    assert.deepEqual(a.replica.peerImports.ofPeer('west').map((r) => r.Service), ['web']);
    assert.equal(a.replica.peerImports.service('west', 'web')!.ModifyIndex, webIndex);
    // The mesh view of the imports: connect-native instances only (sidecars are not replicated).
    assert.deepEqual((await importedHealth(a.deps, 'west', 'web', defaultQueryOptions(), { connect: true })).value, []);
    const native = instance('n8', 'passing');
    (native.Service as { Connect?: { Native: boolean } }).Connect = { Native: true };
    await storeImports(a.deps, 'west', { Services: { web: [instance('n9', 'passing'), native] } });
    const mesh = (await importedHealth(a.deps, 'west', 'web', defaultQueryOptions(), { connect: true })).value;
    assert.deepEqual(mesh.map((r) => r.Node.Node), ['n8']);
    // Nothing lands for an unknown peer.
    await storeImports(a.deps, 'nobody', { Services: { web: [instance('n9', 'passing')] } });
    assert.deepEqual(a.replica.peerImports.ofPeer('nobody'), []);
  } finally {
    stop();
  }
});

test('imported mesh services get VIPs of their own, kept while the peer exports the service, freed when it stops and with the peering', async () => {
  const { a, stop } = await pair();
  try {
    await a.peering.generateToken({ PeerName: 'west' });
    const id = (await a.read('west')).ID;
    const native = instance('n8', 'passing');
    (native.Service as { Connect?: { Native: boolean } }).Connect = { Native: true };
    const vip = () => a.replica.virtualIPs.address(DEFAULT_ENT, 'web', 'west');
    await storeImports(a.deps, 'west', { Services: { web: [native] } });
    assert.equal(vip(), '240.0.0.1');
    assert.equal(a.replica.virtualIPs.address(DEFAULT_ENT, 'web'), undefined, 'the local web has none');
    assert.deepEqual(a.replica.peerImports.service('west', 'web')!.Nodes[0].Service.TaggedAddresses, { 'consul-virtual': { Address: '240.0.0.1', Port: 80 } });
    const index = a.replica.peerImports.service('west', 'web')!.ModifyIndex;
    await storeImports(a.deps, 'west', { Services: { web: [native] } });
    assert.equal(a.replica.peerImports.service('west', 'web')!.ModifyIndex, index, 'the same export writes nothing');
    await storeImports(a.deps, 'west', { Services: { web: [instance('n9', 'passing')] } });
    assert.equal(vip(), '240.0.0.1', 'kept: the peer still exports web');
    await storeImports(a.deps, 'west', { Services: {} });
    assert.equal(vip(), undefined, 'freed with the last instance');
    await storeImports(a.deps, 'west', { Services: { web: [native] } });
    assert.equal(vip(), '240.0.0.1', 'the freed VIP again');
    await a.peering.delete('west');
    await a.peering.remove(id);
    assert.equal(vip(), undefined, 'freed with the peering');
  } finally {
    stop();
  }
});

test('deletion marks DELETING with DeletedAt, then removal takes the peering and its imports', async () => {
  const { a, b, stop } = await pair();
  try {
    await a.peering.generateToken({ PeerName: 'west', Meta: { env: 'x' } });
    const id = (await a.read('west')).ID;
    await storeImports(a.deps, 'west', { Services: { web: [instance('n9', 'passing')] } });
    await a.peering.delete('west');
    const p = await a.read('west');
    assert.equal(p.State, 'DELETING');
    assert.equal(p.DeletedAt, '2026-01-02T03:04:05.678Z');
    // Consul rewrites a peering marked for deletion with its name, addresses and remote only.
    assert.equal(p.Meta, undefined);
    // The same on the dialing side: its peer's ID, server name and meta are no longer shown.
    const { PeeringToken } = await a.peering.generateToken({ PeerName: 'east' });
    await b.peering.establish({ PeerName: 'to-a', PeeringToken, Meta: { m: '1' } });
    await b.peering.delete('to-a');
    const d = await b.read('to-a');
    assert.deepEqual([d.State, d.PeerID, d.PeerServerName, d.Meta], ['DELETING', undefined, undefined, undefined]);
    assert.deepEqual(d.PeerServerAddresses, ['127.0.0.1:8510']);
    assert.deepEqual(d.Remote, { Partition: 'default', Datacenter: 'dc1' });
    await assert.rejects(a.peering.generateToken({ PeerName: 'west' }), { message: 'failed to write peering: cannot write to peering that is marked for deletion' });
    await storeImports(a.deps, 'west', { Services: { db: [] } });
    assert.deepEqual(a.replica.peerImports.ofPeer('west').map((r) => r.Service), ['web']);
    await a.peering.remove(id);
    await assert.rejects(a.read('west'), { message: 'Peering not found for "west"', code: 'not_found' });
    assert.deepEqual(a.replica.peerImports.ofPeer('west'), []);
    assert.equal(a.replica.peeringSecrets.get(id), undefined);
    // The name is free again.
    await a.peering.generateToken({ PeerName: 'west' });
    assert.notEqual((await a.read('west')).ID, id);
  } finally {
    stop();
  }
});

test('two tokens for a new name at once make one peering', async () => {
  const { a, stop } = await pair();
  try {
    const [t1, t2] = await Promise.all([a.peering.generateToken({ PeerName: 'west' }), a.peering.generateToken({ PeerName: 'west' })]);
    assert.equal(decodePeeringToken(t1.PeeringToken).PeerID, decodePeeringToken(t2.PeeringToken).PeerID);
    assert.equal(a.replica.peerings.all().length, 1);
  } finally {
    stop();
  }
});

test('a blocking read of a missing peering waits for it, as Consul\'s PeeringRead blocks on ErrNotFound', async () => {
  const s = await server('dc1', () => Promise.reject(new Error('no dial')));
  try {
    await s.peering.generateToken({ PeerName: 'first' });
    const tableIndex = (await s.peering.list(defaultQueryOptions())).meta.index;
    // Not blocking: 404 at once.
    await assert.rejects(s.peering.read('later', defaultQueryOptions()), { code: 'not_found', message: 'Peering not found for "later"' });
    // Blocking at the table's index: another peering's creation does not end it, this one's does.
    let settled = false;
    const blocked = s.peering.read('later', { ...defaultQueryOptions(), minIndex: tableIndex, waitMs: 60_000 }).finally(() => { settled = true; });
    await s.peering.generateToken({ PeerName: 'other' });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false, 'still waiting after an unrelated peering was written');
    await s.peering.generateToken({ PeerName: 'later' });
    const got = await blocked;
    assert.equal(got.value.Name, 'later');
    assert.equal(got.meta.index, got.value.ModifyIndex);
    // A blocked read of a peering that is then removed ends with 404.
    await s.peering.delete('later');
    const marked = await s.peering.read('later', defaultQueryOptions());
    assert.equal(marked.value.State, 'DELETING');
    const gone = s.peering.read('later', { ...defaultQueryOptions(), minIndex: marked.meta.index, waitMs: 60_000 });
    await s.peering.remove(marked.value.ID);
    await assert.rejects(gone, { code: 'not_found' });
    // Still missing when the wait runs out: 404.
    const idx = (await s.peering.list(defaultQueryOptions())).meta.index;
    const timedOut = s.peering.read('never', { ...defaultQueryOptions(), minIndex: idx, waitMs: 1000 });
    s.clock.advance(2000);
    await assert.rejects(timedOut, { code: 'not_found', message: 'Peering not found for "never"' });
  } finally {
    s.stop();
  }
});
