// Agent logs of integration tests: a report prints each node's latest tail and process state and
// keeps the files; without a report remove() deletes them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { test } from 'node:test';
import { AgentLogs } from './agent-logs.ts';

test('a report prints the tail of each node\'s log with how its process ended, and keeps the logs', async (t) => {
  const logs = new AgentLogs('agent-logs-test');
  const fd = logs.open('s1', '(first)');
  const child = spawn(process.execPath, ['-e', 'console.log("bind: address already in use"); process.exit(1)'], { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  await once(child, 'exit');
  const written: string[] = [];
  t.mock.method(process.stderr, 'write', (s: string) => { written.push(s); return true; });
  logs.report('test "x" failed', [{ node: 's1', child }, { node: 's2', child: null }]);
  t.mock.restoreAll();
  const text = written.join('');
  assert.match(text, /^# test "x" failed at .*; agent logs in /);
  assert.match(text, /--- s1 \(exited with code 1; last \d+ of \d+ chars\)\n--- .* launch s1 \(first\)\nbind: address already in use\n/);
  assert.match(text, /--- s2 \(not started; last 0 of 0 chars\)/);
  logs.remove();
  assert.ok(fs.existsSync(logs.file('s1')), 'a reported log is kept');
  fs.rmSync(logs.dir, { recursive: true, force: true });
});

test('without a report the logs are removed', () => {
  const logs = new AgentLogs('agent-logs-test');
  fs.closeSync(logs.open('s1', ''));
  logs.remove();
  assert.equal(fs.existsSync(logs.dir), false);
});
