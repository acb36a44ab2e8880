// `.query` DNS questions as this agent executes them: Near `_agent` is the agent the question was
// asked of (a client agent forwarding it, else this one), Near `_ip` the EDNS0 client subnet's
// address before the asker's, as Consul's preparedQueryLookup fills Agent and Source; a question
// forwarded from another datacenter keeps its agent's datacenter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { DnsHandler, UpstreamQueue, dnsConfigFrom } from '../dns/index.ts';
import { EMPTY_DNS_READER } from '../endpoint/dns-view.ts';
import type { ExecuteArgs, PreparedQueryEndpoint } from '../endpoint/prepared-query.ts';
import { silentLogger } from '../log.ts';
import { ManualClock } from '../clock.ts';
import type { Abortable } from '../state/notify.ts';
import { devConfig } from '../../test/support/agent.ts';
import { dnsQueryExecutor } from './query-dns.ts';

function setup() {
  const seen: ExecuteArgs[] = [];
  const ep = {
    execute: async (_name: string, _opts: unknown, args: ExecuteArgs) => {
      seen.push(args);
      return { Service: 'web', Nodes: [], DNS: { TTL: '' }, Datacenter: 'dc1', Failovers: 0, meta: {} };
    },
  } as unknown as PreparedQueryEndpoint;
  const h = new DnsHandler({
    cfg: dnsConfigFrom(devConfig()), view: EMPTY_DNS_READER, logger: silentLogger(),
    queries: dnsQueryExecutor(ep, () => undefined as never, 'server-1', new UpstreamQueue()),
  });
  return { h, seen };
}

const query = (id: number, subnet?: string): Buffer => dnsPacket.encode({
  type: 'query', id, questions: [{ type: 'A', name: 'webq.query.consul' }],
  additionals: subnet ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096, options: [{ code: 'CLIENT_SUBNET', ip: subnet, sourcePrefixLength: 32 }] } as never] : [],
});

test('Near _agent: the client agent that asked, else this agent', async () => {
  const { h, seen } = setup();
  await h.handle(query(1), 'udp', '10.0.0.5', 'client-7');
  await h.handle(query(2), 'udp', '10.0.0.5');
  assert.deepEqual(seen.map((a) => a.agentNode), ['client-7', 'server-1']);
  assert.deepEqual(seen.map((a) => a.ip), ['10.0.0.5', '10.0.0.5']);
});

test('a question a server of another datacenter forwarded runs for that datacenter\'s agent (no distance sort here)', async () => {
  const { h, seen } = setup();
  await h.handle(query(5), 'udp', '10.0.0.5', 'client-7', 'dc1');
  await h.handle(query(6), 'udp', '10.0.0.5', 'client-7');
  assert.deepEqual(seen.map((a) => [a.agentNode, a.ip, a.datacenter]), [['client-7', '10.0.0.5', 'dc1'], ['client-7', '10.0.0.5', '']]);
});

test('Near _ip: the EDNS0 client subnet before the asker, also for a client agent\'s question', async () => {
  const { h, seen } = setup();
  await h.handle(query(3, '10.9.9.9'), 'udp', '::ffff:10.0.0.5', 'client-7');
  await h.handle(query(4), 'udp', '::ffff:10.0.0.5', 'client-7');
  assert.deepEqual(seen.map((a) => [a.ip, a.agentNode]), [['10.9.9.9', 'client-7'], ['10.0.0.5', 'client-7']]);
});

test('a question its queue dropped aborts the execution, so a failover\'s remote call is cancelled', async () => {
  const clock = new ManualClock();
  const signals: (Abortable | undefined)[] = [];
  const ep = {
    execute: (_name: string, opts: { signal?: Abortable }) => {
      signals.push(opts.signal);
      return new Promise(() => {});
    },
  } as unknown as PreparedQueryEndpoint;
  const h = new DnsHandler({
    cfg: dnsConfigFrom(devConfig()), view: EMPTY_DNS_READER, logger: silentLogger(),
    queries: dnsQueryExecutor(ep, () => undefined as never, 'server-1', new UpstreamQueue({ maxWaitMs: 2000, clock })),
  });
  const reply = h.handle(query(5), 'udp', '10.0.0.5');
  await new Promise((r) => setImmediate(r));
  assert.equal(signals.length, 1);
  assert.equal(signals[0]?.aborted, false);
  clock.advance(2000);
  assert.equal(await reply, null, 'dropped: no reply');
  assert.equal(signals[0]?.aborted, true, 'the execution was told its asker has gone');
});

test('SRV targets of a failover to a peer: the node by its peer and the query\'s partition, a service address as <hex>.addr.<domain>', async () => {
  const peerNode = (name: string, address: string, svcAddr: string) => ({
    Node: { Node: name, Address: address, PeerName: 'p1', Partition: 'their-ap' },
    Service: { ID: 'web', Service: 'web', Port: 80, Address: svcAddr, PeerName: 'p1', Partition: 'their-ap' }, Checks: [],
  });
  const ep = {
    execute: async () => ({ Service: 'web', Nodes: [peerNode('far1', '10.9.0.1', ''), peerNode('far2', '10.9.0.2', '10.9.1.2')], DNS: { TTL: '' }, Datacenter: 'dc1', PeerName: 'p1', Failovers: 1, meta: {} }),
  } as unknown as PreparedQueryEndpoint;
  const h = new DnsHandler({ cfg: dnsConfigFrom(devConfig()), view: EMPTY_DNS_READER, logger: silentLogger(), queries: dnsQueryExecutor(ep, () => undefined as never, 'server-1') });
  const msg = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'SRV', name: 'webq.query.consul' }] });
  const r = dnsPacket.decode((await h.handle(msg, 'udp'))!);
  assert.deepEqual(r.answers!.map((a) => (a as { data: { target: string } }).data.target).sort(), ['0a090102.addr.consul', 'far1.node.p1.peer.default.ap.consul']);
});
