// allow_write_http_from's address match, as Go's net.IPNet.Contains decides it in Consul's
// checkWriteAccess: IPv4 clients in both forms, IPv4-mapped networks, and IPv6 networks (::/0
// included) that match no IPv4 client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log.ts';
import { Router } from './router.ts';
import { HttpServer } from './server.ts';
import { writeAccess } from './write-access.ts';

const allowed = (cidrs: string[], addr: string) => writeAccess(cidrs)!(addr);

test('no entries: writes open to all', () => {
  assert.equal(writeAccess([]), null);
  assert.equal(writeAccess(undefined), null);
});

test('an IPv4 network takes its clients in either form, and no IPv6 client', () => {
  assert.equal(allowed(['127.0.0.0/8'], '127.0.0.1'), true);
  assert.equal(allowed(['127.0.0.0/8'], '::ffff:127.0.0.1'), true);
  assert.equal(allowed(['127.0.0.0/8'], '10.0.0.1'), false);
  assert.equal(allowed(['127.0.0.0/8'], '::1'), false);
  assert.equal(allowed(['0.0.0.0/0'], '::1'), false);
  assert.equal(allowed(['10.1.2.3/32'], '10.1.2.3'), true);
  assert.equal(allowed(['10.1.2.3/32'], '10.1.2.4'), false);
  assert.equal(allowed(['192.168.0.0/17'], '192.168.127.255'), true);
  assert.equal(allowed(['192.168.0.0/17'], '192.168.128.0'), false);
});

test('IPv6 networks, ::/0 included, match IPv6 clients only, as in Go', () => {
  assert.equal(allowed(['::/0'], '::1'), true);
  assert.equal(allowed(['::/0'], '127.0.0.1'), false);
  assert.equal(allowed(['::/0'], '::ffff:127.0.0.1'), false);
  assert.equal(allowed(['::1/128'], '::1'), true);
  assert.equal(allowed(['::1/128'], '::2'), false);
  assert.equal(allowed(['fd00::/8'], 'fd12:3456::1'), true);
  assert.equal(allowed(['fd00::/8'], 'fe80::1'), false);
  assert.equal(allowed(['2001:db8::/32'], '2001:db8:ffff::1'), true);
  assert.equal(allowed(['2001:db8::/32'], '2001:db9::1'), false);
});

test('an IPv4-mapped network in IPv6 notation is the IPv4 network it maps', () => {
  assert.equal(allowed(['::ffff:10.0.0.0/104'], '10.9.8.7'), true);
  assert.equal(allowed(['::ffff:10.0.0.0/104'], '::ffff:10.9.8.7'), true);
  assert.equal(allowed(['::ffff:a00:0/104'], '10.9.8.7'), true);
  assert.equal(allowed(['::ffff:10.0.0.0/104'], '11.0.0.1'), false);
  assert.equal(allowed(['::ffff:0:0/96'], '1.2.3.4'), true);
});

test('an address that is not an IP (a unix socket\'s, a zoned one) is never allowed', () => {
  assert.equal(allowed(['0.0.0.0/0', '::/0'], ''), false);
  assert.equal(allowed(['::/0'], 'fe80::1%eth0'), false);
});

test('the HTTP server applies it: ::/0 refuses a write from 127.0.0.1 with 403 Access is restricted', async () => {
  const router = new Router().route('PUT', '/v1/kv/*', async () => ({ body: true }));
  const serve = (cidrs: string[]) => new HttpServer({ router, logger: silentLogger(), config: { defaultAclPolicy: 'allow', responseHeaders: {}, allowWriteHttpFrom: cidrs } });
  const refused = await serve(['::/0']).handle({ method: 'PUT', url: '/v1/kv/k' });
  assert.deepEqual([refused.status, refused.body.toString()], [403, 'Access is restricted']);
  assert.equal((await serve(['::ffff:127.0.0.0/104']).handle({ method: 'PUT', url: '/v1/kv/k' })).status, 200);
});
