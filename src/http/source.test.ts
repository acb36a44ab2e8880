import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goIpString, sourceAddr } from './source.ts';

const from = (xff: string | string[] | undefined, remoteAddr = '::ffff:127.0.0.9') => sourceAddr({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff as string }, remoteAddr });

test('the first X-Forwarded-For entry, trimmed, when it is an IP; else the peer address', () => {
  assert.equal(from(' 10.0.0.2 , 192.0.2.1'), '10.0.0.2');
  assert.equal(from('2001:DB8:0:0:0:0:0:1, 10.0.0.1'), '2001:db8::1');
  assert.equal(from(undefined), '127.0.0.9');
  // A first entry that is no IP is not looked past: the peer address is used, as Consul does.
  assert.equal(from('unknown, 10.0.0.2'), '127.0.0.9');
});

test('garbage in X-Forwarded-For never escapes and never throws', () => {
  for (const junk of ['', ',', ' , ', 'garbage', '999.1.1.1', '01.2.3.4', '10.0.0.2:8080', '[::1]', 'fe80::1%eth0', '1::2::3', 'ä', '\u0000', '10.0.0.2 10.0.0.3']) {
    assert.equal(from(junk), '127.0.0.9', JSON.stringify(junk));
  }
  assert.equal(from(['10.0.0.7, 10.0.0.8', '10.0.0.9']), '10.0.0.7');
  assert.equal(sourceAddr({ headers: { 'x-forwarded-for': 'nope' }, remoteAddr: '' }), '');
  assert.equal(sourceAddr({ headers: {}, remoteAddr: undefined as unknown as string }), '');
});

test('addresses print as Go\'s net.IP String does', () => {
  assert.equal(goIpString('::ffff:10.0.0.2'), '10.0.0.2');
  assert.equal(goIpString('::FFFF:0:0'), '0.0.0.0');
  assert.equal(goIpString('::1.2.3.4'), '::102:304');
  assert.equal(goIpString('1:0:0:1:0:0:0:1'), '1:0:0:1::1');
  assert.equal(goIpString('1:0:1:0:1:0:1:0'), '1:0:1:0:1:0:1:0');
  assert.equal(goIpString('0:0:0:0:0:0:0:0'), '::');
  assert.equal(goIpString('192.0.2.1'), '192.0.2.1');
});
