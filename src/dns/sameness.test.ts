// `.sg` service names: the first member of the group with healthy instances answers, partition
// members only for services exported to the asking partition, peer members with what they export
// here; the group's partition is the `.ap` label's or the agent's; label orders, tags and SRV.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devConfig } from '../../test/support/agent.ts';
import { InternalError, NotFoundError } from '../errors.ts';
import type { DnsInstance, DnsReader } from '../endpoint/dns-view.ts';
import { EMPTY_DNS_READER } from '../endpoint/dns-view.ts';
import type { SamenessGroup } from '../endpoint/sameness.ts';
import { dnsConfigFrom } from './config.ts';
import { answer } from './answers.ts';
import { parseName } from './name.ts';

const cfg = dnsConfigFrom(devConfig());

const inst = (address: string, tags: string[] = []): DnsInstance => ({
  node: { Node: `n-${address}`, Address: address } as DnsInstance['node'],
  service: { ID: 'web', Service: 'web', Port: 80, Address: '', Tags: tags } as DnsInstance['service'],
  status: 'passing', allPassing: true,
});

interface World {
  groups: Record<string, SamenessGroup>;
  /** `<ap>/<ns>` → the tenant's own instances of web. */
  local: Record<string, DnsInstance[]>;
  /** `<ap>/<ns>/<peer>` → web as the peer exports it there. */
  peers: Record<string, DnsInstance[]>;
  /** `<from>><to>` pairs where web is exported. */
  exports: Set<string>;
}

function viewOf(w: World): DnsReader & { asked: string[] } {
  const asked: string[] = [];
  const reader = (ap: string, ns: string): DnsReader => ({
    ...EMPTY_DNS_READER,
    instances: (name, o) => (name === 'web' ? (w.local[`${ap}/${ns}`] ?? []).filter((i) => !o?.tag || i.service.Tags!.includes(o.tag)) : []),
    peerInstances: (peer, name) => (name === 'web' ? w.peers[`${ap}/${ns}/${peer}`] ?? [] : []),
  });
  return {
    ...reader('default', 'default'), asked,
    tenant: (ent) => (w.local[`${ent.partition}/${ent.namespace}`] || ent.namespace === 'default' ? reader(ent.partition, ent.namespace) : undefined),
    samenessGroup: (ap, name) => (asked.push(`${ap}:${name}`), w.groups[`${ap}/${name}`]),
    exportedTo: (from, _ns, service, to) => service === 'web' && w.exports.has(`${from}>${to}`),
  };
}

function ask(view: DnsReader, name: string, type = 'A', c = cfg) {
  return answer({ name, type, domain: 'consul.' }, parseName(name, type, 'consul.', '')!.query, { cfg: c, view, random: Math.random, now: Date.now });
}
const addrs = (view: DnsReader, name: string, c = cfg) => ask(view, name, 'A', c).answers.map((a) => (a as { data: unknown }).data).sort();

const group = (members: SamenessGroup['members'], defaultForFailover = true): SamenessGroup => ({ name: 'mine', defaultForFailover, members });

test('the first member with healthy instances answers, in the group\'s order', () => {
  const w: World = {
    groups: { 'default/mine': group([{ partition: 'default' }, { partition: 'ap1' }, { peer: 'p1' }]) },
    local: { 'default/default': [inst('10.0.0.1')], 'ap1/default': [inst('10.1.0.1')] },
    peers: { 'default/default/p1': [inst('10.9.0.1')] },
    exports: new Set(['ap1>default']),
  };
  const view = viewOf(w);
  assert.deepEqual(addrs(view, 'web.service.mine.sg.consul'), ['10.0.0.1']);
  w.local['default/default'] = [];
  assert.deepEqual(addrs(view, 'web.service.mine.sg.consul'), ['10.1.0.1'], 'fails over to the partition member');
  w.local['ap1/default'] = [];
  assert.deepEqual(addrs(view, 'web.service.mine.sg.consul'), ['10.9.0.1'], 'then to the peer');
  w.peers['default/default/p1'] = [];
  assert.throws(() => ask(view, 'web.service.mine.sg.consul'), NotFoundError, 'no member has any: NXDOMAIN');
});

test('a partition member that does not export the service to the asking partition is skipped', () => {
  const w: World = {
    groups: { 'default/mine': group([{ partition: 'ap1' }, { partition: 'ap2' }]) },
    local: { 'ap1/default': [inst('10.1.0.1')], 'ap2/default': [inst('10.2.0.1')] },
    peers: {}, exports: new Set(['ap2>default']),
  };
  assert.deepEqual(addrs(viewOf(w), 'web.service.mine.sg.consul'), ['10.2.0.1']);
  w.exports.clear();
  assert.throws(() => ask(viewOf(w), 'web.service.mine.sg.consul'), NotFoundError);
});

test('the group and peers are the asking partition\'s: its .ap label, else the agent\'s; the namespace is the .ns label\'s', () => {
  const w: World = {
    groups: { 'ap1/mine': group([{ partition: 'ap1' }, { peer: 'p1' }]) },
    local: { 'ap1/team': [] }, peers: { 'ap1/team/p1': [inst('10.9.0.2')], 'ap1/default/p1': [inst('10.9.0.3')] }, exports: new Set(),
  };
  const view = viewOf(w);
  for (const name of ['web.service.team.ns.mine.sg.ap1.ap.consul', 'web.service.mine.sg.team.ns.ap1.ap.consul', 'web.service.ap1.ap.team.ns.mine.sg.consul']) {
    assert.deepEqual(addrs(view, name), ['10.9.0.2'], name);
  }
  assert.deepEqual(addrs(view, 'web.service.mine.sg.consul', { ...cfg, partition: 'ap1' }), ['10.9.0.3'], 'a client agent of ap1');
  assert.throws(() => ask(view, 'web.service.mine.sg.consul'), InternalError, 'the default partition has no such group');
  assert.deepEqual(view.asked.at(-1), 'default:mine');
});

test('an unknown group is SERVFAIL, one without DefaultForFailover NXDOMAIN; other kinds and localities refuse .sg', () => {
  const w: World = { groups: { 'default/off': { ...group([{ partition: 'default' }], false), name: 'off' } }, local: { 'default/default': [inst('10.0.0.1')] }, peers: {}, exports: new Set() };
  const view = viewOf(w);
  assert.throws(() => ask(view, 'web.service.nope.sg.consul'), InternalError);
  assert.throws(() => ask(view, 'web.service.off.sg.consul'), NotFoundError);
  w.groups['default/on'] = group([{ partition: 'default' }]);
  for (const name of ['web.connect.on.sg.consul', 'web.ingress.on.sg.consul', 'n1.node.on.sg.consul', 'web.virtual.on.sg.consul', 'web.service.on.sg.dc1.dc.consul', 'web.service.on.sg.p1.peer.consul']) {
    assert.throws(() => ask(view, name), NotFoundError, name);
  }
});

test('tags filter every member; SRV answers (RFC 2782 too) are built as for other service names', () => {
  const w: World = {
    groups: { 'default/mine': group([{ partition: 'default' }, { partition: 'ap1' }]) },
    local: { 'default/default': [inst('10.0.0.1', ['v1'])], 'ap1/default': [inst('10.1.0.1', ['v2'])] }, peers: {}, exports: new Set(['ap1>default']),
  };
  const view = viewOf(w);
  assert.deepEqual(addrs(view, 'v2.web.service.mine.sg.consul'), ['10.1.0.1']);
  for (const name of ['_web._v2.service.mine.sg.consul', '_web._v2.mine.sg.consul']) {
    const srv = ask(view, name, 'SRV');
    assert.deepEqual(srv.answers.map((a) => (a as { data: { port: number; target: string } }).data), [{ priority: 1, weight: 1, port: 80, target: 'n-10.1.0.1.node.dc1.consul' }], name);
    assert.deepEqual(srv.additionals.map((a) => (a as { data: unknown }).data), ['10.1.0.1']);
  }
});
