// The parts of `connect redirect-traffic` that read as Go's library functions: net.SplitHostPort's
// port and errors (for envoy_*_bind_addr) and exec.LookPath's not-found error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookPath, splitPort } from './connect-redirect-traffic.ts';

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
