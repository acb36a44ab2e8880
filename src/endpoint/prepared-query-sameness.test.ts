// Prepared queries with a sameness group: members tried in order as the local run is, the first
// with results answering (Failovers counted, a peer's results marked), ACL filtering per member,
// an unknown group refused; a sameness group cannot be combined with Failover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogTables, ConfigEntriesTable, configEntryKey, nodeKey, serviceKey, checkKey, type PreparedQueryRecord } from '../state/index.ts';
import type { WatchEvent } from '../store/index.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { silentLogger } from '../log.ts';
import { InternalError } from '../errors.ts';
import { executeSameness } from './prepared-query-sameness.ts';
import { queryProblem } from './prepared-query-validate.ts';

let rev = 1;
function put(key: string, rec: object): WatchEvent {
  rev++;
  return { type: 'put', kv: { key, value: Buffer.from(JSON.stringify(rec)), createRevision: rev, modRevision: rev, version: 1, lease: 0 } };
}

function query(svc: Partial<PreparedQueryRecord['Service']> = {}): PreparedQueryRecord {
  return {
    ID: 'q', Name: 'q', Session: '', Token: '', Template: { Type: '', Regexp: '', RemoveEmptyTags: false },
    Service: {
      Service: 'web', SamenessGroup: 'mine', Failover: { NearestN: 0, Datacenters: null, Targets: null }, OnlyPassing: false,
      IgnoreCheckIDs: null, Near: '', Tags: null, NodeMeta: null, ServiceMeta: null, Peer: '', Connect: false, ...svc,
    },
    DNS: { TTL: '' },
  };
}

function setup(members: object[]) {
  const catalog = new CatalogTables();
  const configEntries = new ConfigEntriesTable();
  configEntries.apply(put(configEntryKey('sameness-group', 'mine'), { Kind: 'sameness-group', Name: 'mine', Members: members }));
  catalog.apply(put(nodeKey('n1'), { Node: 'n1', Address: '10.0.0.1' }));
  catalog.apply(put(serviceKey('n1', 'web'), { ID: 'web', Service: 'web', Port: 80 }));
  const peerNode = { Node: { Node: 'far', Address: '10.9.0.1', PeerName: 'p1' }, Service: { ID: 'web', Service: 'web', Port: 80, PeerName: 'p1' }, Checks: [] };
  const peerImports = { service: (peer: string, svc: string) => (peer === 'p1' && svc === 'web' ? { Peer: 'p1', Service: 'web', Nodes: [peerNode] } : undefined) };
  const deps = { replica: { catalog, configEntries, peerImports }, config: { datacenter: 'dc1' }, random: () => 0 } as unknown as EndpointDeps;
  const critical = () => catalog.apply(put(checkKey('n1', 'web-check'), { Node: 'n1', CheckID: 'web-check', ServiceID: 'web', ServiceName: 'web', Status: 'critical' }));
  return { deps, critical };
}

const args = { near: '', ip: '', agentNode: '', limit: 0, connect: false };

test('the first member with healthy results answers; a critical local service fails over to the peer', () => {
  const { deps, critical } = setup([{ Partition: 'default' }, { Peer: 'p1' }]);
  const first = executeSameness(deps, query(), undefined, args, silentLogger()).result;
  assert.deepEqual([first.Nodes.map((n) => n.Node.Node), first.Failovers, first.PeerName], [['n1'], 0, undefined]);
  critical();
  const next = executeSameness(deps, query(), undefined, args, silentLogger()).result;
  assert.deepEqual([next.Nodes.map((n) => n.Node.Node), next.Failovers, next.PeerName, next.Datacenter], [['far'], 1, 'p1', 'dc1']);
  const none = executeSameness(deps, query({ Service: 'nope' }), undefined, args, silentLogger()).result;
  assert.deepEqual([none.Nodes, none.Failovers], [[], 1]);
});

test('ACLs filter each member: a member whose results are all filtered does not answer', () => {
  const { deps } = setup([{ Partition: 'default' }, { Peer: 'p1' }]);
  const id = { authorizer: { serviceRead: () => 'allow', nodeRead: (n: string) => (n === 'n1' ? 'deny' : 'allow') } } as unknown as AclIdentity;
  const out = executeSameness(deps, query(), id, args, silentLogger());
  assert.deepEqual([out.result.Nodes.map((n) => n.Node.Node), out.result.Failovers, out.filtered], [['far'], 1, false]);
});

test('an unknown group is refused; an empty one answers nothing', () => {
  const { deps } = setup([]);
  assert.throws(() => executeSameness(deps, query({ SamenessGroup: 'other' }), undefined, args, silentLogger()), (e: Error) => e instanceof InternalError && e.message === 'Sameness Group not found');
  assert.deepEqual(executeSameness(deps, query(), undefined, args, silentLogger()).result.Nodes, []);
});

test('a sameness group cannot be combined with Failover', () => {
  assert.equal(queryProblem(query()), undefined);
  for (const f of [{ NearestN: 1, Datacenters: null, Targets: null }, { NearestN: 0, Datacenters: ['dc2'], Targets: null }, { NearestN: 0, Datacenters: null, Targets: [{ Peer: 'p1', Datacenter: '' }] }]) {
    assert.equal(queryProblem(query({ Failover: f })), 'SamenessGroup and Failover are mutually exclusive');
  }
  assert.equal(queryProblem(query({ SamenessGroup: '', Failover: { NearestN: 1, Datacenters: null, Targets: null } })), undefined);
});
