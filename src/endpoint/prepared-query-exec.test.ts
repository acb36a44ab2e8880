import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failover, orderLocal, tagsSatisfy, type ExecuteResult, type QueryFailover } from './prepared-query-exec.ts';
import type { EndpointDeps } from './deps.ts';
import { shuffle } from '../shuffle.ts';
import type { PreparedQueryRecord } from '../state/index.ts';
import { silentLogger } from '../log.ts';

function query(f: Partial<PreparedQueryRecord['Service']['Failover']>): PreparedQueryRecord {
  return {
    ID: 'q', Name: 'q', Session: '', Token: 't', Template: { Type: '', Regexp: '', RemoveEmptyTags: false },
    Service: {
      Service: 'db', SamenessGroup: '', Failover: { NearestN: 0, Datacenters: null, Targets: null, ...f }, OnlyPassing: false,
      IgnoreCheckIDs: null, Near: '', Tags: null, NodeMeta: null, ServiceMeta: null, Peer: '', Connect: false,
    },
    DNS: { TTL: '' },
  };
}

const local: ExecuteResult = { Service: 'db', Nodes: [], DNS: { TTL: '' }, Datacenter: 'dc1', Failovers: 0 };

/** dc2..dc5 by distance; dc3 fails, dc4 has results. */
function routes(asked: string[]): QueryFailover {
  return {
    datacentersByDistance: () => ['dc2', 'dc3', 'dc4', 'dc5'],
    async executeRemote(dc, req, token) {
      asked.push(`${dc}:${token}:${req.Limit}`);
      if (dc === 'dc3') throw new Error('unreachable');
      const nodes = dc === 'dc4' ? [{ Node: { Node: 'x' } }] : [];
      return { ...local, Datacenter: dc, Nodes: nodes as never, ResultsFilteredByACLs: dc === 'dc4' };
    },
  };
}

test('NearestN then Datacenters (deduplicated, unknown skipped) until one has results; errors move on', async () => {
  const asked: string[] = [];
  const r = await failover(query({ NearestN: 2, Datacenters: ['dc9', 'dc2', 'dc4', 'dc5'] }), routes(asked), { Limit: 3, Connect: false }, 'tok', local, silentLogger());
  assert.deepEqual(asked, ['dc2:tok:3', 'dc3:tok:3', 'dc4:tok:3']);
  assert.equal(r.Datacenter, 'dc4');
  assert.equal(r.Failovers, 3);
  assert.equal(r.Nodes.length, 1);
  // The answering datacenter's ACL filtering is reported, as Consul's reply takes its QueryMeta.
  assert.equal(r.remoteFiltered, true);
  assert.equal('ResultsFilteredByACLs' in r, false);
});

test('Targets in order, peers skipped; nothing to try leaves the local answer', async () => {
  const asked: string[] = [];
  const r = await failover(query({ Targets: [{ Peer: 'p1', Datacenter: '' }, { Peer: '', Datacenter: 'dc5' }] }), routes(asked), { Limit: 0, Connect: false }, '', local, silentLogger());
  assert.deepEqual(asked, ['dc5::0']);
  assert.deepEqual([r.Datacenter, r.Failovers, r.Nodes.length, r.remoteFiltered], ['dc5', 1, 0, false]);
  const none = await failover(query({}), routes(asked), { Limit: 0, Connect: false }, '', local, silentLogger());
  assert.equal(none, local);
  assert.equal((await failover(query({ NearestN: 2 }), undefined, { Limit: 0, Connect: false }, '', local, silentLogger())), local);
});

test('peer targets run here in their place among the targets, without a WAN pool too', async () => {
  const asked: string[] = [];
  const runPeer = (peer: string) => {
    asked.push(`peer:${peer}`);
    const nodes = peer === 'p2' ? [{ Node: { Node: 'y' } }] : [];
    return { ...local, Nodes: nodes as never, PeerName: peer, filtered: peer === 'p2' };
  };
  const q = query({ Targets: [{ Peer: 'p1', Datacenter: '' }, { Peer: '', Datacenter: 'dc3' }, { Peer: 'p2', Datacenter: '' }, { Peer: '', Datacenter: 'dc4' }] });
  const r = await failover(q, routes(asked), { Limit: 0, Connect: false }, 't', local, silentLogger(), undefined, runPeer);
  assert.deepEqual(asked, ['peer:p1', 'dc3:t:0', 'peer:p2']);
  assert.deepEqual([r.PeerName, r.Datacenter, r.Failovers, r.Nodes.length, r.remoteFiltered], ['p2', 'dc1', 3, 1, true]);
  asked.length = 0;
  const alone = await failover(q, undefined, { Limit: 0, Connect: false }, 't', local, silentLogger(), undefined, runPeer);
  assert.deepEqual(asked, ['peer:p1', 'peer:p2']);
  assert.equal(alone.PeerName, 'p2');
});

test('a remote answer with Nodes null (a Go nil slice) counts as no results: the next datacenter is tried, an empty list returned', async () => {
  const asked: string[] = [];
  const nil: QueryFailover = {
    datacentersByDistance: () => ['dc2', 'dc3'],
    async executeRemote(dc) {
      asked.push(dc);
      return { ...local, Datacenter: dc, Nodes: null as never };
    },
  };
  const r = await failover(query({ Datacenters: ['dc2', 'dc3'] }), nil, { Limit: 0, Connect: false }, '', local, silentLogger());
  assert.deepEqual(asked, ['dc2', 'dc3']);
  assert.deepEqual([r.Datacenter, r.Failovers, r.Nodes], ['dc3', 2, []]);
});

test('tags: all required, none of the !forbidden, case-insensitive', () => {
  assert.equal(tagsSatisfy(['V1', 'stable'], ['v1', '!canary']), true);
  assert.equal(tagsSatisfy(['v1', 'Canary'], ['v1', '!canary']), false);
  assert.equal(tagsSatisfy(null, ['!canary']), true);
  assert.equal(tagsSatisfy([], ['v1']), false);
});

test('a caller that leaves cancels the running remote call, and no further datacenter is tried', async () => {
  const asked: string[] = [];
  const abort = new AbortController();
  const hanging: QueryFailover = {
    datacentersByDistance: () => ['dc2', 'dc3'],
    executeRemote(dc, _req, _token, signal) {
      asked.push(dc);
      return new Promise((_resolve, reject) => {
        signal?.addEventListener('abort', { handleEvent: () => reject(new Error('the caller left')) });
      });
    },
  };
  const p = failover(query({ Datacenters: ['dc2', 'dc3'] }), hanging, { Limit: 0, Connect: false }, '', local, silentLogger(), abort.signal);
  await new Promise((r) => setImmediate(r));
  abort.abort();
  const r = await p;
  assert.deepEqual(asked, ['dc2'], 'dc3 is not asked for a caller that has gone');
  assert.deepEqual([r.Datacenter, r.Nodes.length], ['dc1', 0]);
});

test('orderLocal: the source node first for a source in this datacenter; a source of another datacenter (a DNS question forwarded here) moves nothing', () => {
  // No coordinates: past the shuffle only the source-first swap can move anything.
  const deps = {
    config: { datacenter: 'dc2' }, random: () => 0.99,
    replica: { coordinates: { set: () => new Map() }, catalog: { nodes: new Map([['n3', { Node: 'n3', Address: '10.0.0.3' }]]) } },
  } as unknown as EndpointDeps;
  const names = (src: { agentNode: string; ip?: string; datacenter?: string }, near = '_agent'): string[] => {
    const res: ExecuteResult = { ...local, Nodes: ['n1', 'n2', 'n3', 'n4'].map((n) => ({ Node: { Node: n } })) as ExecuteResult['Nodes'] };
    const q = query({});
    orderLocal(deps, { ...q, Service: { ...q.Service, Near: near } }, res, { near: '', ip: '', ...src }, silentLogger());
    return res.Nodes.map((n) => n.Node.Node);
  };
  const unmoved = shuffle(['n1', 'n2', 'n3', 'n4'], deps.random);
  const n3First = unmoved.map((n, i) => (n === 'n3' ? unmoved[0] : i === 0 ? 'n3' : n));
  assert.notEqual(unmoved[0], 'n3');
  assert.deepEqual(names({ agentNode: 'nobody' }), unmoved);
  assert.deepEqual(names({ agentNode: 'n3' }), n3First);
  assert.deepEqual(names({ agentNode: 'n3', datacenter: 'dc2' }), n3First, 'this datacenter named');
  assert.deepEqual(names({ agentNode: 'c1', ip: '10.0.0.3' }, '_ip'), n3First);
  assert.deepEqual(names({ agentNode: 'n3', datacenter: 'dc1' }), unmoved, 'Near _agent of another datacenter');
  assert.deepEqual(names({ agentNode: 'c1', ip: '10.0.0.3', datacenter: 'dc1' }, '_ip'), unmoved, 'Near _ip of another datacenter');
  assert.deepEqual(names({ agentNode: 'c1', datacenter: 'dc1' }, 'n3'), unmoved, 'a named Near node, the source in another datacenter');
});
