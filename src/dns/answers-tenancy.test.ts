import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devConfig } from '../../test/support/agent.ts';
import { NotFoundError } from '../errors.ts';
import type { DnsInstance, DnsReader } from '../endpoint/dns-view.ts';
import { EMPTY_DNS_READER } from '../endpoint/dns-view.ts';
import { dnsConfigFrom } from './config.ts';
import { decodeDnsConfig, encodeDnsConfig } from './config-wire.ts';
import { answer, localTenancy } from './answers.ts';
import { parseLocality, parseName } from './name.ts';

const cfg = dnsConfigFrom(devConfig());
const loc = (...labels: string[]) => parseLocality(labels)!;

test('localTenancy: default/default is undefined (the unchanged path); labels, legacy and prefer_namespace forms name the tenant', () => {
  assert.equal(localTenancy(loc(), cfg, false), undefined);
  assert.equal(localTenancy(loc('default', 'ns', 'default', 'ap'), cfg, false), undefined);
  assert.equal(localTenancy(loc('dc1'), cfg, false), undefined);
  assert.deepEqual(localTenancy(loc('team-1', 'ns'), cfg, false), { partition: 'default', namespace: 'team-1' });
  assert.deepEqual(localTenancy(loc('team-1', 'dc1'), cfg, false), { partition: 'default', namespace: 'team-1' });
  assert.deepEqual(localTenancy(loc('p1', 'ap'), cfg, false), { partition: 'p1', namespace: 'default' });
  assert.deepEqual(localTenancy(loc('team-1'), { ...cfg, preferNamespace: true }, false), { partition: 'default', namespace: 'team-1' });
  // prefer_namespace reads a lone label only: the legacy <ns>.<dc> form keeps its namespace and datacenter.
  assert.deepEqual(localTenancy(loc('team-1', 'dc1'), { ...cfg, preferNamespace: true }, false), { partition: 'default', namespace: 'team-1' });
  assert.throws(() => localTenancy(loc('team-1', 'dc2'), { ...cfg, preferNamespace: true }, false), NotFoundError);
  assert.equal(localTenancy(loc('default', 'dc1'), { ...cfg, preferNamespace: true }, false), undefined);
  assert.throws(() => localTenancy(loc('team-1', 'dc2'), cfg, false), NotFoundError);
  assert.throws(() => localTenancy(loc('p', 'peer'), cfg, false), NotFoundError);
});

test('a client agent\'s partition is the default of names without .ap, and travels with its settings', () => {
  const client = dnsConfigFrom(devConfig({ partition: 'P1' }));
  assert.equal(client.partition, 'p1');
  assert.deepEqual(localTenancy(loc(), client, false), { partition: 'p1', namespace: 'default' });
  assert.equal(localTenancy(loc('default', 'ap'), client, false), undefined, 'an explicit .ap wins');
  assert.equal(decodeDnsConfig(encodeDnsConfig(client), 'dc1').partition, 'p1');
  assert.equal(decodeDnsConfig(encodeDnsConfig(cfg), 'dc1').partition, undefined);
  assert.ok(!Buffer.from(encodeDnsConfig(cfg), 'base64url').toString().includes('partition'), 'a default-partition header is unchanged');
});

test('answers in a tenant read its reader; no reader (unknown or deleted) is NXDOMAIN', () => {
  const inst = (address: string): DnsInstance => ({
    node: { Node: 'n1', Address: address } as DnsInstance['node'], service: { ID: 'web', Service: 'web', Port: 80, Address: '' } as DnsInstance['service'],
    status: 'passing', allPassing: true,
  });
  const asked: string[] = [];
  const tenantReader: DnsReader = { ...EMPTY_DNS_READER, instances: (name) => (name === 'web' ? [inst('10.9.0.1')] : []) };
  const view: DnsReader = {
    ...EMPTY_DNS_READER, instances: () => [inst('10.0.0.1')],
    tenant: (ent) => (asked.push(`${ent.partition}/${ent.namespace}`), ent.namespace === 'team-1' ? tenantReader : undefined),
  };
  const ask = (name: string, c = cfg) => answer({ name, type: 'A', domain: 'consul.' }, parseName(name, 'A', 'consul.', '')!.query, { cfg: c, view, random: Math.random, now: Date.now });
  assert.deepEqual(ask('web.service.consul').answers.map((a) => (a as { data: unknown }).data), ['10.0.0.1']);
  assert.deepEqual(asked, [], 'the default tenant never asks for a reader');
  assert.deepEqual(ask('web.service.team-1.ns.consul').answers.map((a) => (a as { data: unknown }).data), ['10.9.0.1']);
  assert.throws(() => ask('web.service.team-2.ns.consul'), NotFoundError);
  assert.throws(() => ask('web.service.consul', { ...cfg, partition: 'p1' }), NotFoundError);
  assert.deepEqual(asked, ['default/team-1', 'default/team-2', 'p1/default']);
  assert.throws(() => answer({ name: 'web.service.team-1.ns.consul', type: 'A', domain: 'consul.' }, parseName('web.service.team-1.ns.consul', 'A', 'consul.', '')!.query,
    { cfg, view: EMPTY_DNS_READER, random: Math.random, now: Date.now }), NotFoundError, 'a reader without tenants knows none');
});

test('a peer\'s services are answered in the namespace and partition the name gives (the agent\'s partition by default)', () => {
  const inst = (address: string): DnsInstance => ({
    node: { Node: 'n1', Address: address } as DnsInstance['node'], service: { ID: 'web', Service: 'web', Port: 80, Address: '' } as DnsInstance['service'],
    status: 'passing', allPassing: true,
  });
  const asked: string[] = [];
  const tenants: Record<string, string> = { 'default/team-1': '10.8.0.2', 'p1/default': '10.8.0.3' };
  const view: DnsReader = {
    ...EMPTY_DNS_READER, peerInstances: () => [inst('10.8.0.1')],
    tenant: (ent) => {
      const key = `${ent.partition}/${ent.namespace}`;
      asked.push(key);
      return tenants[key] ? { ...EMPTY_DNS_READER, peerInstances: () => [inst(tenants[key])] } : undefined;
    },
  };
  const ask = (name: string, c = cfg) => answer({ name, type: 'A', domain: 'consul.' }, parseName(name, 'A', 'consul.', '')!.query, { cfg: c, view, random: Math.random, now: Date.now });
  const addrs = (name: string, c = cfg) => ask(name, c).answers.map((a) => (a as { data: unknown }).data);
  assert.deepEqual(addrs('web.service.peer1.peer.consul'), ['10.8.0.1']);
  assert.deepEqual(asked, [], 'the default tenant\'s name asks for no tenant reader');
  assert.deepEqual(addrs('web.service.team-1.ns.peer1.peer.consul'), ['10.8.0.2']);
  assert.throws(() => ask('web.service.team-9.ns.peer1.peer.consul'), NotFoundError);
  const client = { ...cfg, partition: 'p1' };
  assert.deepEqual(addrs('web.service.peer1.peer.consul', client), ['10.8.0.3']);
  assert.deepEqual(addrs('web.service.peer1.peer.default.ap.consul', client), ['10.8.0.1']);
});

test('PTR reads the agent\'s partition: a default-partition agent never asks for a tenant reader', () => {
  const node = (name: string) => ({ Node: name, Address: '10.0.0.1' }) as DnsInstance['node'];
  const asked: string[] = [];
  const view: DnsReader = {
    ...EMPTY_DNS_READER, nodeByAddress: () => node('dflt'),
    tenant: (ent) => (asked.push(`${ent.partition}/${ent.namespace}`), { ...EMPTY_DNS_READER, nodeByAddress: () => node('in-p1') }),
  };
  const name = '1.0.0.10.in-addr.arpa';
  const ask = (c = cfg) => answer({ name, type: 'PTR', domain: 'consul.' }, parseName(name, 'PTR', 'consul.', '')!.query, { cfg: c, view, random: Math.random, now: Date.now });
  assert.deepEqual(ask().answers.map((a) => (a as { data: unknown }).data), ['dflt.node.dc1.consul']);
  assert.deepEqual(asked, []);
  assert.deepEqual(ask({ ...cfg, partition: 'p1' }).answers.map((a) => (a as { data: unknown }).data), ['in-p1.node.dc1.consul']);
  assert.deepEqual(asked, ['p1/default']);
});

test('SRV targets of a peer\'s instances: the node by its peer and partition name, a service address as <hex>.addr.<domain>', () => {
  const peerInst = (svcAddr: string, partition = 'default'): DnsInstance => ({
    node: { Node: 'n1', Address: '10.8.0.1', PeerName: 'peer1', Meta: { rack: 'r1' } } as unknown as DnsInstance['node'],
    service: { ID: 'web', Service: 'web', Port: 80, Address: svcAddr, Partition: partition } as DnsInstance['service'],
    status: 'passing', allPassing: true,
  });
  let found = [peerInst('')];
  const view: DnsReader = { ...EMPTY_DNS_READER, peerInstances: () => found, tenant: () => ({ ...EMPTY_DNS_READER, peerInstances: () => found }) };
  const srv = (name: string, c = cfg) => {
    const r = answer({ name, type: 'SRV', domain: 'consul.' }, parseName(name, 'SRV', 'consul.', '')!.query, { cfg: c, view, random: Math.random, now: Date.now });
    const data = r.answers.map((a) => (a as { data: { target: string } }).data.target);
    return { data, extra: r.additionals.map((a) => `${a.name.replace(/\.$/, '')} ${a.type} ${(a as { data: unknown }).data}`) };
  };
  const meta = { ...cfg, nodeMetaTxt: true };
  assert.deepEqual(srv('web.service.peer1.peer.consul', meta), {
    data: ['n1.node.peer1.peer.default.ap.consul'],
    extra: ['n1.node.peer1.peer.default.ap.consul A 10.8.0.1', 'n1.node.peer1.peer.default.ap.consul TXT rack=r1'],
  });
  // The exporter's partition is not the one the import lives in: the name's (or the agent's) is.
  found = [peerInst('', 'their-ap')];
  assert.deepEqual(srv('web.service.peer1.peer.p1.ap.consul').data, ['n1.node.peer1.peer.p1.ap.consul']);
  assert.deepEqual(srv('web.service.peer1.peer.consul', { ...cfg, partition: 'p2' }).data, ['n1.node.peer1.peer.p2.ap.consul']);
  found = [peerInst('10.8.0.7')];
  assert.deepEqual(srv('web.service.peer1.peer.consul'), {
    data: ['0a080007.addr.consul'], extra: ['0a080007.addr.consul A 10.8.0.7', 'n1.node.peer1.peer.default.ap.consul TXT rack=r1'],
  });
  found = [peerInst('10.8.0.1')];
  assert.deepEqual(srv('web.service.peer1.peer.consul').data, ['0a080001.addr.consul'], 'a service address equal to its node\'s');
});

test('a peer\'s node is looked up under the peer\'s name in the name\'s partition (the agent\'s by default)', () => {
  const node = (address: string) => ({ Node: 'n1', Address: address, PeerName: 'peer1' }) as unknown as DnsInstance['node'];
  const asked: string[] = [];
  const view: DnsReader = {
    ...EMPTY_DNS_READER, peerNode: (peer, name) => (asked.push(`default ${peer} ${name}`), name === 'n1' ? node('10.8.0.1') : undefined),
    tenant: (ent) => ({ ...EMPTY_DNS_READER, peerNode: (peer) => (asked.push(`${ent.partition} ${peer}`), node('10.8.0.3')) }),
  };
  const ask = (name: string, c = cfg) => answer({ name, type: 'A', domain: 'consul.' }, parseName(name, 'A', 'consul.', '')!.query, { cfg: c, view, random: Math.random, now: Date.now });
  const addrs = (name: string, c = cfg) => ask(name, c).answers.map((a) => (a as { data: unknown }).data);
  assert.deepEqual(addrs('n1.node.peer1.peer.consul'), ['10.8.0.1']);
  assert.deepEqual(addrs('n1.node.peer1.peer.p1.ap.consul'), ['10.8.0.3']);
  assert.deepEqual(addrs('n1.node.peer1.peer.consul', { ...cfg, partition: 'p2' }), ['10.8.0.3']);
  assert.throws(() => ask('n2.node.peer1.peer.consul'), NotFoundError);
  assert.throws(() => ask('n1.node.peer1.peer.dc1.consul'), NotFoundError, 'a peer and a datacenter');
  assert.deepEqual(asked, ['default peer1 n1', 'p1 peer1', 'p2 peer1', 'default peer1 n2']);
});

test('SRV targets of another partition\'s nodes are <node>.node.<dc>.<domain>, as Consul names every non-peer node', () => {
  const found: DnsInstance[] = [{
    node: { Node: 'n1', Address: '10.1.0.1' } as unknown as DnsInstance['node'],
    service: { ID: 'web', Service: 'web', Port: 80, Address: '', Partition: 'p1' } as DnsInstance['service'], status: 'passing', allPassing: true,
  }];
  const view: DnsReader = { ...EMPTY_DNS_READER, tenant: (ent) => (ent.partition === 'p1' ? { ...EMPTY_DNS_READER, instances: () => found } : undefined) };
  const name = 'web.service.p1.ap.consul';
  const r = answer({ name, type: 'SRV', domain: 'consul.' }, parseName(name, 'SRV', 'consul.', '')!.query, { cfg, view, random: Math.random, now: Date.now });
  assert.deepEqual(r.answers.map((a) => (a as { data: { target: string } }).data.target), ['n1.node.dc1.consul']);
});
