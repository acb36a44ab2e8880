// Property test of the prepared (cached, lane) replies against the general path: random services
// (instance counts, node name lengths, IPv4/IPv6 node and service addresses, shared nodes, node
// meta TXT glue, health, tags) under random DNS settings (udp_answer_limit, a_record_limit,
// enable_truncate, disable_compression, node meta TXT, TTLs), asked A, AAAA and SRV with and
// without EDNS0 at many payload sizes over UDP and TCP. Both handlers draw the same shuffle, so
// every reply must be the same bytes; each is also decoded and its sections compared, so a
// failure names the section that differs. Between rounds the service changes (instances added,
// removed, turned critical or warning) and the next replies must follow it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket, { type Packet, type RecordType } from 'dns-packet';
import { DnsHandler } from './handler.ts';
import { dnsConfigFrom, type DnsConfig } from './config.ts';
import type { DnsInstance, DnsReader } from '../endpoint/dns-view.ts';
import { seededRandom } from '../gossip/random.ts';
import { devConfig } from '../../test/support/agent.ts';
import { silentLogger } from '../log.ts';

type Rnd = () => number;
const int = (rnd: Rnd, n: number): number => Math.floor(rnd() * n);
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[int(rnd, xs.length)];
const char = (rnd: Rnd, chars: string): string => chars[int(rnd, chars.length)];
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

function label(rnd: Rnd, max: number): string {
  let s = char(rnd, ALNUM.slice(0, 26));
  for (let i = 1 + int(rnd, max); i > 0; i--) s += char(rnd, `${ALNUM}-`);
  return `${s}${char(rnd, ALNUM)}`;
}

const ipv4 = (rnd: Rnd): string => `10.${int(rnd, 4)}.${int(rnd, 256)}.${1 + int(rnd, 254)}`;
const ipv6 = (rnd: Rnd): string => `fd00::${(1 + int(rnd, 0xfffe)).toString(16)}`;

/** One random instance of `web`; `node` shares an earlier instance's node when given. */
function randomInstance(rnd: Rnd, id: number, node?: DnsInstance['node']): DnsInstance {
  const meta: Record<string, string> = {};
  for (let k = int(rnd, 3); k > 0; k--) meta[label(rnd, 6)] = rnd() < 0.2 ? '' : label(rnd, 20);
  const nodeAddr = rnd() < 0.85 ? ipv4(rnd) : ipv6(rnd);
  const r = rnd();
  const address = r < 0.5 ? '' : r < 0.8 ? ipv4(rnd) : r < 0.95 ? ipv6(rnd) : nodeAddr;
  const status = pick(rnd, ['passing', 'passing', 'passing', 'warning', 'critical'] as const);
  return {
    node: node ?? { Node: label(rnd, rnd() < 0.1 ? 60 : 14), Address: nodeAddr, Datacenter: 'dc1', Meta: meta } as unknown as DnsInstance['node'],
    service: { ID: `web-${id}`, Service: 'web', Port: 1 + int(rnd, 65000), Address: address, Tags: rnd() < 0.5 ? ['blue'] : [], Weights: { Passing: 1 + int(rnd, 3), Warning: 1 } } as unknown as DnsInstance['service'],
    status, allPassing: status === 'passing',
  };
}

/** A reader over one service whose instances the test changes (index and stamp move with it), filtering as DnsView does. */
function serviceView(): { view: DnsReader; all: DnsInstance[]; changed(): void } {
  const state = { index: 1, stamp: 1 };
  const all: DnsInstance[] = [];
  const view = {
    instances: (name: string, opts: { onlyPassing?: boolean; tag?: string } = {}) => (name !== 'web' ? [] : all.filter((i) => i.status !== 'critical'
      && (!opts.onlyPassing || i.allPassing) && (!opts.tag || (i.service.Tags ?? []).includes(opts.tag)))),
    hasService: (name: string) => name === 'web',
    serviceKey: (name: string) => (name === 'web' ? 'web' : undefined),
    version: (key: string) => (key === 'web' ? state.index : 0),
    node: (name: string) => all.find((i) => i.node.Node === name)?.node,
    nodeByAddress: () => undefined, serviceByAddress: () => undefined,
    stamp: () => state.stamp,
  } as unknown as DnsReader;
  return { view, all, changed: () => void (state.index++, state.stamp++) };
}

/** Random DNS settings of the kinds the prepared path reads. */
function randomConfig(rnd: Rnd): DnsConfig {
  const base = dnsConfigFrom(devConfig());
  const ttl = pick(rnd, [0, 0, 5, 300]);
  return {
    ...base, udpAnswerLimit: pick(rnd, [1, 3, 3, 8, 10]), aRecordLimit: pick(rnd, [0, 0, 0, 1, 3]), enableTruncate: rnd() < 0.5,
    disableCompression: rnd() < 0.2, nodeMetaTxt: rnd() < 0.7, onlyPassing: rnd() < 0.3,
    serviceTtl: ttl ? new Map([['web', ttl]]) : base.serviceTtl,
  };
}

/** Adds, removes, or changes the health of a few instances. */
function change(rnd: Rnd, all: DnsInstance[], next: () => number): void {
  for (let k = 1 + int(rnd, 4); k > 0; k--) {
    const op = int(rnd, 4);
    if (op === 0 || all.length === 0) all.push(randomInstance(rnd, next(), all.length && rnd() < 0.15 ? pick(rnd, all).node : undefined));
    else if (op === 1) all.splice(int(rnd, all.length), 1);
    else {
      const i = pick(rnd, all);
      i.status = pick(rnd, ['passing', 'warning', 'critical'] as const);
      i.allPassing = i.status === 'passing';
    }
  }
}

const NAMES = ['web.service.consul', 'WEB.service.Consul', 'blue.web.service.consul', 'web.service.dc1.consul'];
const TYPES: RecordType[] = ['A', 'AAAA', 'SRV'];
const EDNS = [-1, -1, 0, 512, 600, 1232, 4096, 65535];

function randomQuery(rnd: Rnd): Buffer {
  const size = pick(rnd, EDNS);
  const pkt: Packet = { type: 'query', id: int(rnd, 65536), flags: rnd() < 0.7 ? dnsPacket.RECURSION_DESIRED : 0, questions: [{ type: pick(rnd, TYPES), name: pick(rnd, NAMES) }] };
  if (size >= 0) pkt.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as never];
  const msg = dnsPacket.encode(pkt);
  // dns-packet writes 4096 for a zero payload size: put the zero on the wire.
  if (size === 0) msg.writeUInt16BE(0, msg.length - 8);
  return msg;
}

/** The sections of a reply as comparable text (dns-packet's decoding). */
function sections(reply: Buffer): string {
  const d = dnsPacket.decode(reply);
  return JSON.stringify({ flags: d.flags, answers: d.answers, authorities: d.authorities, additionals: d.additionals });
}

test('prepared replies decode to, and are the bytes of, the general path\'s for random services, settings and changes', async () => {
  const rnd = seededRandom(20261127);
  let fastReplies = 0;
  let large = 0;
  for (let scenario = 0; scenario < 60; scenario++) {
    const cfg = randomConfig(rnd);
    const { view, all, changed } = serviceView();
    let ids = 0;
    const next = (): number => ids++;
    const n = pick(rnd, [1, 2, 3, 5, 10, 10, 20, 40, 120]);
    for (let i = 0; i < n; i++) all.push(randomInstance(rnd, next(), i > 0 && rnd() < 0.1 ? pick(rnd, all).node : undefined));
    const seed = int(rnd, 1 << 30);
    const fast = new DnsHandler({ cfg, view, logger: silentLogger(), random: seededRandom(seed), now: () => 1_700_000_000_000 });
    const slow = new DnsHandler({ cfg, view, logger: silentLogger(), random: seededRandom(seed), now: () => 1_700_000_000_000, fastPath: false });
    for (let round = 0; round < 4; round++) {
      for (let q = 0; q < 40; q++) {
        const msg = randomQuery(rnd);
        const transport = rnd() < 0.8 ? 'udp' : 'tcp';
        const now = fast.answerNow(msg, transport);
        if (now) fastReplies++, large += now.length > 512 ? 1 : 0;
        const got = now !== undefined ? now : await fast.handle(msg, transport);
        const want = await slow.handle(msg, transport);
        const what = `scenario ${scenario} round ${round} ${transport} ${JSON.stringify(dnsPacket.decode(msg).questions)} edns ${JSON.stringify(dnsPacket.decode(msg).additionals?.map((a) => (a as { udpPayloadSize?: number }).udpPayloadSize))}`;
        assert.ok(got && want, what);
        assert.equal(sections(got), sections(want), what);
        assert.equal(got.toString('hex'), want.toString('hex'), what);
      }
      change(rnd, all, next);
      changed();
    }
  }
  // The property holds only if the prepared path answered a good share, large replies included.
  assert.ok(fastReplies > 4_000, `only ${fastReplies} prepared replies`);
  assert.ok(large > 500, `only ${large} prepared replies over 512 bytes`);
});
