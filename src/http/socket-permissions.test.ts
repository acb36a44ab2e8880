// unix_sockets.user/group/mode applied to a socket file with Consul's rules and texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { passwdUid, setFilePermissions } from './socket-permissions.ts';
import { tmpDir } from '../test-tmp-dir.ts';

function file(): string {
  const p = join(tmpDir('pc-sock-'), 'agent.sock');
  writeFileSync(p, '');
  return p;
}

test('mode in octal; user and group by ID (as root: the owner changes)', (t) => {
  const p = file();
  setFilePermissions(p, { mode: '0640' });
  assert.equal(statSync(p).mode & 0o777, 0o640);
  if (process.getuid?.() !== 0) return t.skip('changing the owner needs root');
  setFilePermissions(p, { user: '12345', group: '54321', mode: '600' });
  const st = statSync(p);
  assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [12345, 54321, 0o600]);
});

test('a user name is looked up in the passwd file', () => {
  const dir = tmpDir('pc-passwd-');
  writeFileSync(join(dir, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nconsul:x:4242:4242::/nonexistent:/bin/false\n');
  assert.equal(passwdUid('consul', join(dir, 'passwd')), 4242);
  assert.equal(passwdUid('nobody-here', join(dir, 'passwd')), undefined);
  const p = file();
  const owner = statSync(p).uid;
  setFilePermissions(p, { user: 'me' }, (name) => (name === 'me' ? owner : undefined));
  assert.equal(statSync(p).uid, owner);
});

test('Consul\'s errors: unknown user, non-numeric group, bad mode', () => {
  const p = file();
  assert.throws(() => setFilePermissions(p, { user: 'ghost' }, () => undefined), { message: 'failed to look up user ghost: user: unknown user ghost' });
  assert.throws(() => setFilePermissions(p, { group: 'wheel' }), { message: 'invalid group specified: wheel' });
  assert.throws(() => setFilePermissions(p, { mode: 'rw' }), { message: 'invalid mode specified: 0' });
  assert.throws(() => setFilePermissions(join(p, 'missing'), {}), /^Error: failed setting ownership to \d+:\d+ on ".*missing": chown .*missing: not a directory$/);
});
