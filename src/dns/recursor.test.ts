// Recursion as Consul's handleRecurse does it, without sockets: recursors in order, each given the
// whole recursor_timeout (no shrinking budget across them), an answer other than NOERROR or
// NXDOMAIN or an unparsable one falls through to the next, null (SERVFAIL) when all fail; hostname
// resolution (accept 'any', Consul's resolveCNAME) takes the first reply that parses, any rcode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { dnsConfigFrom } from './config.ts';
import { devConfig } from '../../test/support/agent.ts';
import { recurse, type Exchange } from './recursor.ts';

const cfg = dnsConfigFrom(devConfig({ raw: { recursors: ['127.0.0.1:5301', '127.0.0.1:5302', '127.0.0.1:5303'], dns_config: { recursor_timeout: '2s' } } }));
const query = dnsPacket.encode({ type: 'query', id: 9, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'example.test' }] });
const reply = (rcode: number): Buffer => dnsPacket.encode({
  type: 'response', id: 9, flags: rcode, questions: [{ type: 'A', name: 'example.test' }],
  answers: rcode === 0 ? [{ type: 'A', name: 'example.test', ttl: 5, data: '192.0.2.7' }] : [],
});

test('sequential: each recursor in turn with the whole recursor_timeout; a later one\'s answer is relayed, as Consul relays it', async () => {
  const asked: [number, number][] = [];
  const exchange: Exchange = async (_q, to, timeoutMs) => {
    asked.push([to.port, timeoutMs]);
    if (to.port === 5301) throw new Error('recursor timeout');
    if (to.port === 5302) return reply(2);
    return reply(0);
  };
  const got = await recurse(query, cfg, Math.random, exchange);
  assert.deepEqual(asked, [[5301, 2000], [5302, 2000], [5303, 2000]], 'no overall deadline shortens the later recursors\' timeouts');
  assert.equal(dnsPacket.decode(got!).answers?.[0]?.type, 'A');
});

test('every recursor failing is null (SERVFAIL), NXDOMAIN is an answer', async () => {
  const failing: Exchange = async () => { throw new Error('recursor timeout'); };
  assert.equal(await recurse(query, cfg, Math.random, failing), null);
  const nx = await recurse(query, cfg, Math.random, async () => reply(3));
  assert.equal(nx!.readUInt16BE(2) & 0xf, 3);
});

test('accept any (hostname resolution, Consul\'s resolveCNAME): the first reply is taken whatever its rcode; unparsable ones still fall through', async () => {
  const asked: number[] = [];
  const exchange: Exchange = async (_q, to) => {
    asked.push(to.port);
    if (to.port === 5301) return Buffer.from([0, 9, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0]); // one answer promised, none there
    return reply(to.port === 5302 ? 2 : 0);
  };
  const got = await recurse(query, cfg, Math.random, exchange, 'any');
  assert.equal(got!.readUInt16BE(2) & 0xf, 2, 'the SERVFAIL reply');
  assert.deepEqual(asked, [5301, 5302]);
  asked.length = 0;
  assert.equal(dnsPacket.decode((await recurse(query, cfg, Math.random, exchange))!).answers?.[0]?.type, 'A', 'usable: the SERVFAIL falls through');
  assert.deepEqual(asked, [5301, 5302, 5303]);
});
