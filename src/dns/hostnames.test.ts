// Hostname addresses left to the asker and completed by it, without sockets: a handler with
// delegateHostnames throws the whole unresolved answer (HostnamesDelegated) instead of asking its
// recursors, and replyResolving() completes such an answer as handle() would have: the CNAME
// chain its own recursors give after the CNAME answer, names under the domain asked through
// domainAnswer, SRV targets' records in the additional section.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket, { type Answer } from 'dns-packet';
import { DnsHandler } from './handler.ts';
import { dnsConfigFrom } from './config.ts';
import { HostnamesDelegated } from './hostnames.ts';
import { EMPTY_DNS_READER, type DnsInstance, type DnsReader } from '../endpoint/dns-view.ts';
import { devConfig } from '../../test/support/agent.ts';
import { silentLogger } from '../log.ts';
import type { Exchange } from './recursor.ts';
import type { Sections } from './answers.ts';

const cfg = dnsConfigFrom(devConfig({ raw: { recursors: ['127.0.0.1:5353'] } }));
const query = (name: string, type: 'A' | 'SRV' = 'A'): Buffer => dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
const rows = (records: Answer[] | undefined): string[][] => (records ?? []).map((r) => {
  const data = (r as { data?: unknown }).data;
  return [r.name, r.type, typeof data === 'string' ? data : JSON.stringify(data)];
});

/** One instance of `ext` whose address is `api.example.test`. */
const view: DnsReader = {
  ...EMPTY_DNS_READER,
  instances: (name) => (name === 'ext' ? [{
    node: { Node: 'n1', Address: '10.0.0.1' } as DnsInstance['node'],
    service: { ID: 'ext', Service: 'ext', Port: 443, Tags: [], Address: 'api.example.test' } as unknown as DnsInstance['service'],
    status: 'passing', allPassing: true,
  }] : []),
  hasService: (name) => name === 'ext',
};

/** A recursor answering api.example.test with a CNAME to lb.example.test and its address. */
const recursor = (asked: string[]): Exchange => async (q) => {
  const req = dnsPacket.decode(q);
  asked.push(req.questions![0].name);
  return dnsPacket.encode({
    type: 'response', id: req.id, flags: 0, questions: req.questions,
    answers: [{ type: 'CNAME', name: 'api.example.test', ttl: 60, data: 'lb.example.test' }, { type: 'A', name: 'lb.example.test', ttl: 60, data: '192.0.2.8' }],
  });
};

async function delegated(h: DnsHandler, msg: Buffer): Promise<{ rcode: number; sections: Sections }> {
  const err = await h.handle(msg, 'udp').then(() => null, (e: unknown) => e);
  assert.ok(err instanceof HostnamesDelegated, `expected HostnamesDelegated, got ${String(err)}`);
  const p = dnsPacket.decode(err.reply);
  return { rcode: (p.flags ?? 0) & 0xf, sections: { answers: p.answers ?? [], authorities: p.authorities ?? [], additionals: p.additionals ?? [] } };
}

test('delegateHostnames: the unresolved answer is thrown, the recursors never asked', async () => {
  const asked: string[] = [];
  const server = new DnsHandler({ cfg, view, logger: silentLogger(), exchange: recursor(asked), delegateHostnames: true, fastPath: false });
  const a = await delegated(server, query('ext.service.consul'));
  assert.deepEqual(rows(a.sections.answers), [['ext.service.consul', 'CNAME', 'api.example.test']]);
  const srv = await delegated(server, query('ext.service.consul', 'SRV'));
  assert.deepEqual(srv.sections.additionals, []);
  assert.deepEqual(asked, []);
  // Without it, the same handler resolves.
  const resolving = new DnsHandler({ cfg, view, logger: silentLogger(), exchange: recursor(asked), fastPath: false });
  assert.deepEqual(rows(dnsPacket.decode((await resolving.handle(query('ext.service.consul'), 'udp'))!).answers).map((r) => r[1]), ['CNAME', 'CNAME', 'A']);
});

test('replyResolving completes a delegated answer as handle() answers it', async () => {
  const asked: string[] = [];
  const server = new DnsHandler({ cfg, view, logger: silentLogger(), exchange: recursor([]), delegateHostnames: true, fastPath: false });
  const resolving = new DnsHandler({ cfg, view, logger: silentLogger(), exchange: recursor([]), fastPath: false });
  const domainAsked: string[] = [];
  const client = new DnsHandler({
    cfg, view: EMPTY_DNS_READER, logger: silentLogger(), exchange: recursor(asked), fastPath: false,
    domainAnswer: async (name) => (domainAsked.push(name), { answers: [{ type: 'CNAME', name, ttl: 0, data: 'api.example.test' }], authorities: [], additionals: [] }),
  });
  for (const type of ['A', 'SRV'] as const) {
    const msg = query('ext.service.consul', type);
    const a = await delegated(server, msg);
    const completed = dnsPacket.decode((await client.replyResolving(msg, a.rcode, a.sections, 'udp'))!);
    const direct = dnsPacket.decode((await resolving.handle(msg, 'udp'))!);
    assert.deepEqual([rows(completed.answers), rows(completed.additionals)], [rows(direct.answers), rows(direct.additionals)], type);
  }
  assert.deepEqual(asked, ['api.example.test', 'api.example.test']);
  // A hostname under the domain is asked through domainAnswer, its own hostname of the recursors.
  const alias: Sections = { answers: [{ type: 'CNAME', name: 'alias.service.consul', ttl: 0, data: 'ext.service.consul' }], authorities: [], additionals: [] };
  // Over TCP: four answers are more than udp_answer_limit lets through UDP without EDNS0.
  const chained = dnsPacket.decode((await client.replyResolving(query('alias.service.consul'), 0, alias, 'tcp'))!);
  assert.deepEqual(rows(chained.answers), [
    ['alias.service.consul', 'CNAME', 'ext.service.consul'], ['ext.service.consul', 'CNAME', 'api.example.test'],
    ['api.example.test', 'CNAME', 'lb.example.test'], ['lb.example.test', 'A', '192.0.2.8'],
  ]);
  assert.deepEqual(domainAsked, ['ext.service.consul']);
});
