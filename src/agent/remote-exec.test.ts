// The agent's remote exec handler against a fake KV (the agent API): job decoding as Go's
// json.Unmarshal refuses it, the shell Consul picks, and a failed upload that ends the job
// without killing the command.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, silentLogger } from '../log.ts';
import { remoteExecHandler, type AgentApiCall } from './remote-exec.ts';
import type { UserEvent } from './events.ts';

const SESSION = '11111111-2222-3333-4444-555555555555';

/** A KV map behind the agent API; `failOutput` makes every out/ write answer 500. */
function fakeKv(job: unknown, failOutput = false): { api: AgentApiCall; kv: Map<string, Buffer>; exited: Promise<string> } {
  const kv = new Map<string, Buffer>();
  kv.set(`_rexec/${SESSION}/job`, Buffer.from(JSON.stringify(job)));
  let exited!: (v: string) => void;
  const done = new Promise<string>((r) => { exited = r; });
  const api: AgentApiCall = async (method, url, body) => {
    const key = decodeURIComponent(new URL(url, 'http://x').pathname.replace(/^\/v1\/kv\//, ''));
    if (method === 'GET') {
      const v = kv.get(key);
      return v ? { status: 200, body: v } : { status: 404, body: Buffer.alloc(0) };
    }
    if (failOutput && key.includes('/out/')) return { status: 500, body: Buffer.from('invalid session') };
    kv.set(key, body ?? Buffer.alloc(0));
    if (key.endsWith('/exit')) exited((body ?? Buffer.alloc(0)).toString());
    return { status: 200, body: Buffer.from('true') };
  };
  return { api, kv, exited: done };
}

function event(): UserEvent {
  return {
    ID: 'e1', Name: '_rexec', Payload: Buffer.from(JSON.stringify({ Prefix: '_rexec', Session: SESSION })).toString('base64'),
    NodeFilter: '', ServiceFilter: '', TagFilter: '', Version: 1, LTime: 1,
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond(), what);
}

test('a job whose fields Go could not decode (Wait not a duration) is not acknowledged or run', async () => {
  const f = fakeKv({ Command: 'true', Wait: 'soon' });
  // The handler's last word on a job it refuses is this error line; acking would come before it.
  const lines: string[] = [];
  const refused = new Promise<void>((resolve) => {
    const logger = createLogger({ level: 'debug', json: true, write: (l) => { lines.push(l); if (l.includes('failed to decode remote exec spec')) resolve(); } });
    remoteExecHandler({ nodeName: 'n1', api: f.api, logger }, false)(event());
  });
  await Promise.race([refused, f.exited]);
  assert.deepEqual([...f.kv.keys()], [`_rexec/${SESSION}/job`], lines.join(''));
});

test('the command runs under $SHELL -c, as Consul runs it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rexec-shell-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const shell = path.join(dir, 'myshell');
  fs.writeFileSync(shell, '#!/bin/sh\necho "via myshell $1"\n', { mode: 0o755 });
  const prev = process.env.SHELL;
  process.env.SHELL = shell;
  t.after(() => { if (prev === undefined) delete process.env.SHELL; else process.env.SHELL = prev; });
  const f = fakeKv({ Command: 'echo plain', Wait: 1e9 });
  remoteExecHandler({ nodeName: 'n1', api: f.api, logger: silentLogger() }, false)(event());
  assert.equal(await f.exited, '0');
  assert.equal(f.kv.get(`_rexec/${SESSION}/n1/out/00000`)?.toString(), 'via myshell -c\n');
});

test('a failed output write ends the job with 255 but leaves the command running (Consul does not kill it)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rexec-fail-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const marker = path.join(dir, 'finished');
  const f = fakeKv({ Command: `echo first; sleep 1; echo second; touch ${marker}`, Wait: 5e9 }, true);
  remoteExecHandler({ nodeName: 'n1', api: f.api, logger: silentLogger() }, false)(event());
  assert.equal(await f.exited, '255');
  assert.ok(f.kv.has(`_rexec/${SESSION}/n1/ack`));
  await until(() => fs.existsSync(marker), 'the command ran to its end after the upload failed');
});

test('a script that cannot be spilled to a temp file reports exit code 255, not success', async (t) => {
  const prev = process.env.TMPDIR;
  process.env.TMPDIR = path.join(os.tmpdir(), 'rexec-missing-dir', 'nested');
  t.after(() => { if (prev === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = prev; });
  const f = fakeKv({ Script: Buffer.from('#!/bin/sh\necho hi\n').toString('base64'), Wait: 1e9 });
  remoteExecHandler({ nodeName: 'n1', api: f.api, logger: silentLogger() }, false)(event());
  assert.equal(await f.exited, '255');
});
