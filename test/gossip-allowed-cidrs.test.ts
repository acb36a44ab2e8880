// serf_lan_allowed_cidrs on real processes: a server that gossips only with 127.0.0.1/32 and
// 127.0.0.3/32, and two client agents bound to 127.0.0.2 (outside) and 127.0.0.3 (inside). The
// inside one joins and is a member on both sides; the server drops the outside one's alive messages and
// never lists it, even after the inside client has seen it and gossiped it on.
// A malformed entry fails the configuration as Consul's builder does.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { freePort } from './support/ports.ts';
import { logTails, until } from './support/wait.ts';
import { loadConfig } from '../src/agent/config/load.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-cidrs-'));

interface Proc { name: string; bind: string; http: number; serf: number; child?: ChildProcess; log: string }
const procs: Proc[] = [];

after(() => {
  for (const p of procs) if (p.child && p.child.exitCode === null) p.child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

async function launch(name: string, bind: string, server: boolean, extra: Record<string, unknown> = {}): Promise<Proc> {
  const p: Proc = { name, bind, http: await freePort(), serf: await freePort(), log: '' };
  const cfg = path.join(dir, `${name}.json`);
  fs.writeFileSync(cfg, JSON.stringify({
    ports: { http: p.http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: p.serf, serf_wan: -1, server: await freePort() }, ...extra,
  }));
  const args = ['agent', '-node', name, '-bind', bind, '-client', '127.0.0.1', '-data-dir', path.join(dir, name), '-config-file', cfg,
    '-log-level', 'debug', ...(server ? ['-server', '-bootstrap'] : [])];
  p.child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.child.stdout!.on('data', (c: Buffer) => { p.log += c.toString(); });
  p.child.stderr!.on('data', (c: Buffer) => { p.log += c.toString(); });
  procs.push(p);
  return p;
}

async function members(p: Proc): Promise<string[] | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${p.http}/v1/agent/members`, { signal: AbortSignal.timeout(2000) });
    return r.ok ? ((await r.json()) as Array<{ Name: string }>).map((m) => m.Name).sort() : undefined;
  } catch {
    return undefined;
  }
}

const POLL = { context: () => logTails(procs.map((p) => [p.name, p.log]), 3000) };

test('a client outside serf_lan_allowed_cidrs cannot join; one inside can', async () => {
  const server = await launch('srv', '127.0.0.1', true, { serf_lan_allowed_cidrs: ['127.0.0.1/32', ' 127.0.0.3/32'] });
  const inside = await launch('inside', '127.0.0.3', false);
  const outside = await launch('outside', '127.0.0.2', false);
  for (const p of procs) await until(`${p.name} up`, 20_000, async () => (await members(p)) !== undefined, POLL);

  const join = (p: Proc) => fetch(`http://127.0.0.1:${p.http}/v1/agent/join/127.0.0.1:${server.serf}`, { method: 'PUT' });
  const ok = await join(inside);
  assert.equal(ok.status, 200, await ok.text());
  await until('inside is a member of the server', 10_000, async () => (await members(server))?.includes('inside'), POLL);
  assert.deepEqual(await members(inside), ['inside', 'srv']);

  // Streams are taken from any source (memberlist's handleConn checks none), but the server adds
  // no member at 127.0.0.2 and drops the alive messages of packets from there.
  await join(outside);
  // The outside client also joins the inside one; the inside one gossips it on, and the server
  // still does not add it.
  const viaInside = await fetch(`http://127.0.0.1:${outside.http}/v1/agent/join/127.0.0.3:${inside.serf}`, { method: 'PUT' });
  assert.equal(viaInside.status, 200, await viaInside.text());
  await until('the inside client sees the outside one', 10_000, async () => (await members(inside))?.includes('outside'), POLL);
  await until('the server blocks alive messages from 127.0.0.2', 10_000, async () => /blocked alive message.*from=127\.0\.0\.2:/.test(server.log), POLL);
  // Several gossip and push-pull rounds pass (the inside client pushes its table to the server).
  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual(await members(server), ['inside', 'srv']);
  assert.match(server.log, /rejected node.*node=outside|node=outside.*rejected node/i);
  assert.doesNotMatch(server.log, /blocked alive message.*from=127\.0\.0\.3:/);
});

test('a malformed CIDR fails the configuration with Consul\'s message', async () => {
  await assert.rejects(
    loadConfig({ args: ['-dev', '-hcl', 'serf_wan_allowed_cidrs = ["10.0.0.0/8", "nope"]'], readOnly: true, hostname: 'h' }),
    { message: 'serf_wan_allowed_cidrs: 1 error occurred:\n\t* invalid cidr: nope\n\n' },
  );
});
