// Answers under settings that ask for WAN addresses (a translating agent's question for this
// datacenter): node, A, AAAA and SRV records show the WAN tagged addresses and port, the prepared
// fast path answers exactly as the general path, and a handler without the setting is untouched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket, { type Answer } from 'dns-packet';
import { DnsHandler } from './handler.ts';
import { dnsConfigFrom } from './config.ts';
import type { DnsInstance, DnsReader } from '../endpoint/dns-view.ts';
import type { Node, NodeService } from '../api/catalog-types.ts';
import { devConfig } from '../../test/support/agent.ts';
import { silentLogger } from '../log.ts';

const node = (name: string, address: string, tagged: Record<string, string>): Node => ({
  ID: '', Node: name, Address: address, Datacenter: 'dc2', TaggedAddresses: tagged, Meta: {}, CreateIndex: 1, ModifyIndex: 1,
});
const svc = (id: string, address: string, port: number, tagged: NodeService['TaggedAddresses']): NodeService => ({
  ID: id, Service: 'web', Tags: [], Address: address, TaggedAddresses: tagged, Meta: {}, Port: port,
  Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, CreateIndex: 1, ModifyIndex: 1,
});
const instances: DnsInstance[] = [
  // The service has its own WAN address and port.
  {
    node: node('n1', '10.2.0.1', { wan: '198.51.100.1', wan_ipv6: '2001:db8::1' }),
    service: svc('web1', '10.2.1.1', 80, { wan: { Address: '203.0.113.1', Port: 8081 } }), status: 'passing', allPassing: true,
  },
  // Only the node has a WAN address.
  { node: node('n2', '10.2.0.2', { wan: '198.51.100.2' }), service: svc('web2', '', 81, null), status: 'passing', allPassing: true },
];
const view: DnsReader = {
  instances: (name) => (name === 'web' ? instances : []), hasService: (name) => name === 'web',
  serviceKey: (name) => (name === 'web' ? 'web' : undefined), version: () => 5,
  node: (name) => instances.find((i) => i.node.Node === name)?.node, nodeByAddress: () => undefined, serviceByAddress: () => undefined,
};

function handler(wanAddresses: boolean, fastPath: boolean): DnsHandler {
  const cfg = { ...dnsConfigFrom(devConfig({ datacenter: 'dc2' })), wanAddresses };
  return new DnsHandler({ cfg, view, logger: silentLogger(), random: () => 0.5, fastPath });
}

async function ask(h: DnsHandler, name: string, type: 'A' | 'AAAA' | 'SRV'): Promise<{ answers: Answer[]; additionals: Answer[] }> {
  const msg = dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
  const reply = dnsPacket.decode((await h.handle(msg, 'udp'))!);
  return { answers: reply.answers ?? [], additionals: reply.additionals ?? [] };
}

const data = (rs: Answer[]): unknown[] => rs.map((r) => (r as { data: unknown }).data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

test('service A and SRV answers show WAN addresses and ports, on both paths', async () => {
  for (const fast of [true, false]) {
    const h = handler(true, fast);
    assert.deepEqual(data((await ask(h, 'web.service.dc2.consul', 'A')).answers), ['198.51.100.2', '203.0.113.1'], `fast=${fast}`);
    const srv = await ask(h, 'web.service.consul', 'SRV');
    assert.deepEqual(srv.answers.map((r) => (r as { data: { port: number } }).data.port).sort((a, b) => a - b), [81, 8081], `fast=${fast}`);
    assert.deepEqual(data(srv.additionals.filter((r) => r.type === 'A')), ['198.51.100.2', '203.0.113.1'], `fast=${fast}`);
    assert.deepEqual(data((await ask(h, 'web.service.consul', 'AAAA')).answers), ['2001:db8::1'], `fast=${fast}`);
  }
});

test('node answers show the WAN address', async () => {
  assert.deepEqual(data((await ask(handler(true, true), 'n2.node.dc2.consul', 'A')).answers), ['198.51.100.2']);
  assert.deepEqual(data((await ask(handler(false, true), 'n2.node.dc2.consul', 'A')).answers), ['10.2.0.2']);
});

test('without the setting the LAN addresses and ports stay', async () => {
  const h = handler(false, true);
  assert.deepEqual(data((await ask(h, 'web.service.consul', 'A')).answers), ['10.2.0.2', '10.2.1.1']);
  const srv = await ask(h, 'web.service.consul', 'SRV');
  assert.deepEqual(srv.answers.map((r) => (r as { data: { port: number } }).data.port).sort((a, b) => a - b), [80, 81]);
});
