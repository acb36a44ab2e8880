// The parts of `connect redirect-traffic` that read as Go's library functions: net.SplitHostPort's
// port and errors (for envoy_*_bind_addr) and exec.LookPath's not-found error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookPath, parseIntBase0, splitPort } from './connect-redirect-traffic.ts';

test('splitPort: the port of host:port and [v6]:port, Go\'s errors otherwise', () => {
  assert.equal(splitPort('0.0.0.0:9102'), '9102');
  assert.equal(splitPort('[::1]:9102'), '9102');
  assert.equal(splitPort(':9102'), '9102');
  assert.throws(() => splitPort('0.0.0.0'), { message: 'address 0.0.0.0: missing port in address' });
  assert.throws(() => splitPort('::1:9102'), { message: 'address ::1:9102: too many colons in address' });
  assert.throws(() => splitPort('[::1'), { message: "address [::1: missing ']' in address" });
  assert.throws(() => splitPort('[::1]'), { message: 'address [::1]: missing port in address' });
});

test('lookPath: the first executable on PATH, or Go\'s exec error', () => {
  assert.equal(lookPath('sh', { PATH: '/nonexistent:/bin:/usr/bin' }), '/bin/sh');
  assert.throws(() => lookPath('iptables', { PATH: '/nonexistent' }), { message: 'exec: "iptables": executable file not found in $PATH' });
});

test('parseIntBase0: strconv.ParseInt with base 0, as mapstructure\'s weak decoding of bind_port', () => {
  assert.equal(parseIntBase0('21000'), 21000);
  assert.equal(parseIntBase0('+21000'), 21000);
  assert.equal(parseIntBase0('0x5208'), 21000);
  assert.equal(parseIntBase0('0o51010'), 21000);
  assert.equal(parseIntBase0('051010'), 21000);
  assert.equal(parseIntBase0('0b101'), 5);
  assert.equal(parseIntBase0('0'), 0);
  assert.equal(parseIntBase0('21_000'), 21000);
  for (const bad of ['invalid', '', '21 000', '0x', '1__000', '1000_', '09', '1.5']) assert.equal(parseIntBase0(bad), null, bad);
});
