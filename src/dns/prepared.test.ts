// Prepared service answers follow the catalog: an entry is re-checked against the view (service
// key and index) whenever the view's stamp has moved, rebuilt when its index moved, and while the
// stamp stays the view is not asked again. DnsView's stamp moves on catalog events, ACL writes and
// token changes, and never returns to an earlier value (ACL indexes restart after a re-list).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { DnsHandler } from './handler.ts';
import { dnsConfigFrom } from './config.ts';
import { DnsView, type DnsInstance, type DnsReader } from '../endpoint/dns-view.ts';
import { CatalogTables } from '../state/catalog.ts';
import { devConfig } from '../../test/support/agent.ts';
import { silentLogger } from '../log.ts';

const cfg = dnsConfigFrom(devConfig());
const query = (id: number): Buffer => dnsPacket.encode({ type: 'query', id, questions: [{ type: 'A', name: 'web.service.consul' }] });
const addresses = (reply: Buffer | null | undefined): string[] => dnsPacket.decode(reply!).answers!.map((a) => String((a as { data: unknown }).data)).sort();
const instance = (ip: string): DnsInstance => ({
  node: { Node: `n-${ip}`, Address: ip } as DnsInstance['node'],
  service: { ID: `web-${ip}`, Service: 'web', Port: 80, Tags: [] } as unknown as DnsInstance['service'],
  status: 'passing', allPassing: true,
});

interface FakeView {
  view: DnsReader;
  set(ips: string[], index: number): void;
  stamp: number;
  asked: { checks: number; builds: number };
}

/** A reader over one service whose instances, index and stamp the test sets, counting what is asked. */
function fakeView(): FakeView {
  const state = { ips: ['10.0.0.1'], index: 5 };
  const asked = { checks: 0, builds: 0 };
  const out: FakeView = {
    stamp: 1,
    asked,
    set(ips: string[], index: number): void {
      state.ips = ips;
      state.index = index;
    },
    view: {
      instances: (name: string) => (asked.builds++, name === 'web' ? state.ips.map(instance) : []),
      hasService: (name: string) => name === 'web',
      serviceKey: (name: string) => (asked.checks++, name === 'web' ? 'web' : undefined),
      version: (key: string) => (key === 'web' ? state.index : 0),
      node: () => undefined, nodeByAddress: () => undefined, serviceByAddress: () => undefined,
      stamp: () => out.stamp,
    } as DnsReader,
  };
  return out;
}

test('while the stamp stays the entry is used without asking the view; a moved stamp re-checks, a moved index rebuilds', () => {
  const f = fakeView();
  const h = new DnsHandler({ cfg, view: f.view, logger: silentLogger() });
  assert.deepEqual(addresses(h.answerNow(query(1), 'udp')), ['10.0.0.1']);
  const { checks, builds } = f.asked;
  for (let i = 0; i < 5; i++) assert.deepEqual(addresses(h.answerNow(query(2 + i), 'udp')), ['10.0.0.1']);
  assert.deepEqual(f.asked, { checks, builds }, 'the view was asked again with its stamp unchanged');

  // Something else in the catalog changed: the entry is re-checked once and kept.
  f.stamp++;
  assert.deepEqual(addresses(h.answerNow(query(10), 'udp')), ['10.0.0.1']);
  assert.equal(f.asked.checks, checks + 1);
  assert.equal(f.asked.builds, builds);
  h.answerNow(query(11), 'udp');
  assert.equal(f.asked.checks, checks + 1);

  // The service changed: the next query sees it.
  f.set(['10.0.0.1', '10.0.0.2'], 6);
  f.stamp++;
  assert.deepEqual(addresses(h.answerNow(query(12), 'udp')), ['10.0.0.1', '10.0.0.2']);
  assert.equal(f.asked.builds, builds + 1);
});

test('a reader without a stamp is re-checked on every query', () => {
  const f = fakeView();
  const { stamp: _, ...plain } = f.view;
  const h = new DnsHandler({ cfg, view: plain, logger: silentLogger() });
  h.answerNow(query(1), 'udp');
  const { checks } = f.asked;
  h.answerNow(query(2), 'udp');
  h.answerNow(query(3), 'udp');
  assert.equal(f.asked.checks, checks + 2);
  f.set(['10.0.0.3'], 6);
  assert.deepEqual(addresses(h.answerNow(query(4), 'udp')), ['10.0.0.3']);
});

test('DnsView.stamp moves on catalog events, ACL writes and token changes, never back', () => {
  const catalog = new CatalogTables();
  const acl = { index: 7 };
  let gateways = 0;
  const configEntries = { kindIndex: (kind: string) => (kind === 'terminating-gateway' ? gateways : 0) };
  let token = 'a';
  const view = new DnsView({ catalog, acl, configEntries } as never, { token: () => token, resolve: () => ({}) as never });
  const seen = [view.stamp()];
  const moved = (why: string): void => {
    const s = view.stamp();
    assert.ok(!seen.includes(s), `${why}: stamp ${s} seen before (${seen.join(', ')})`);
    seen.push(s);
  };
  assert.equal(view.stamp(), seen[0], 'nothing changed');
  catalog.reset();
  moved('catalog reset');
  catalog.apply({ type: 'delete', kv: { key: 'catalog/node/n1', value: new Uint8Array(), createRevision: 8, modRevision: 8, version: 0, lease: 0 } } as never);
  moved('catalog event');
  acl.index = 9;
  moved('ACL write');
  token = 'b';
  moved('new token');
  acl.index = 0;
  moved('ACL re-list');
  acl.index = 9;
  moved('ACL index back to an earlier value');
  gateways = 12;
  moved('terminating-gateway entry written');
});

test('an entry that can no longer answer is not rebuilt on every query (the hash-found entry is dropped with it)', () => {
  const f = fakeView();
  const h = new DnsHandler({ cfg, view: f.view, logger: silentLogger() });
  assert.deepEqual(addresses(h.answerNow(query(1), 'udp')), ['10.0.0.1']);
  assert.deepEqual(addresses(h.answerNow(query(2), 'udp')), ['10.0.0.1']);
  // The only instance moves to an IPv6 address: an A question has no records to prepare.
  f.set(['fd00::1'], 6);
  f.stamp++;
  h.answerNow(query(3), 'udp');
  const { builds } = f.asked;
  for (let i = 0; i < 5; i++) h.answerNow(query(4 + i), 'udp');
  assert.equal(f.asked.builds, builds, 'rebuilt while nothing changed');
  // And it comes back once the service does.
  f.set(['10.0.0.9'], 7);
  f.stamp++;
  assert.deepEqual(addresses(h.answerNow(query(20), 'udp')), ['10.0.0.9']);
  assert.deepEqual(addresses(h.answerNow(query(21), 'udp')), ['10.0.0.9']);
});
