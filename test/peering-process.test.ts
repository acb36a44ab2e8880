// Cluster peering between two real `proconsul agent -dev` processes (datacenters dc1 and dc2,
// each its own store) on 127.0.0.1, driven through the CLI as an operator would: generate a token
// on one, establish it on the other, export a service, see it with `?peer=`, then delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killAll, spawnProconsul } from './support/procs.ts';
import { freePort } from './support/ports.ts';
import { runCliCaptured } from './support/cli.ts';
import { until } from './support/wait.ts';

async function agent(dir: string, name: string, dc: string): Promise<{ http: number; log: () => string; child: ReturnType<typeof spawnProconsul> }> {
  const http = await freePort();
  const cfg = path.join(dir, `${name}.json`);
  fs.writeFileSync(cfg, JSON.stringify({ ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: await freePort(), serf_wan: await freePort(), server: await freePort() } }));
  let log = '';
  const child = spawnProconsul(['agent', '-dev', '-node', name, '-datacenter', dc, '-bind', '127.0.0.1', '-client', '127.0.0.1', '-config-file', cfg], (t) => { log += t; });
  return { http, log: () => log.slice(-4000), child };
}

test('two agent processes peer through the CLI and share an exported service', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-peering-'));
  const a = await agent(dir, 'node-a', 'dc1');
  const b = await agent(dir, 'node-b', 'dc2');
  try {
    const envA = { CONSUL_HTTP_ADDR: `127.0.0.1:${a.http}` };
    const envB = { CONSUL_HTTP_ADDR: `127.0.0.1:${b.http}` };
    for (const [p, what] of [[a, 'A'], [b, 'B']] as const) {
      await until(`agent ${what} up`, 30_000, async () => (await fetch(`http://127.0.0.1:${p.http}/v1/status/leader`).then((r) => r.json()).catch(() => '')) || false, { context: p.log });
    }
    const svc = path.join(dir, 'web.json');
    fs.writeFileSync(svc, JSON.stringify({ service: { name: 'web', port: 8080, check: { ttl: '1h', status: 'passing' } } }));
    assert.equal((await runCliCaptured(['services', 'register', svc], envA)).code, 0);
    const entry = path.join(dir, 'exports.json');
    fs.writeFileSync(entry, JSON.stringify({ Kind: 'exported-services', Name: 'default', Services: [{ Name: 'web', Consumers: [{ Peer: 'dc2-peer' }] }] }));
    const wrote = await runCliCaptured(['config', 'write', entry], envA);
    assert.equal(wrote.code, 0, wrote.err);

    const gen = await runCliCaptured(['peering', 'generate-token', '-name', 'dc2-peer'], envA);
    assert.equal(gen.code, 0, gen.err);
    const est = await runCliCaptured(['peering', 'establish', '-name', 'dc1-peer', '-peering-token', gen.out.trim()], envB);
    assert.deepEqual(est, { code: 0, out: 'Successfully established peering connection with dc1-peer\n', err: '' });

    const rows = await until('web imported on B', 15_000, async () => {
      const list = await fetch(`http://127.0.0.1:${b.http}/v1/health/service/web?peer=dc1-peer`).then((r) => r.json()) as { Node: { Node: string; PeerName: string }; Checks: { Status: string }[] }[];
      return list.length === 1 ? list : undefined;
    }, { context: () => `A:\n${a.log()}\nB:\n${b.log()}` });
    assert.deepEqual([rows[0].Node.Node, rows[0].Node.PeerName], ['node-a', 'dc1-peer']);
    assert.ok(rows[0].Checks.every((c) => c.Status === 'passing'));
    const list = await runCliCaptured(['peering', 'list'], envB);
    assert.match(list.out, /^Name +State +Imported Svcs +Exported Svcs +Meta\ndc1-peer +ACTIVE +1 +0\n$/);
    assert.deepEqual(await runCliCaptured(['peering', 'exported-services', '-name', 'dc2-peer'], envA), { code: 0, out: 'web\n', err: '' });

    assert.equal((await runCliCaptured(['peering', 'delete', '-name', 'dc1-peer'], envB)).code, 0);
    await until('imports removed on B', 15_000, async () => {
      const left = await fetch(`http://127.0.0.1:${b.http}/v1/health/service/web?peer=dc1-peer`).then((r) => r.json()) as unknown[];
      return left.length === 0;
    });
    await until('A\'s end TERMINATED', 15_000, async () => /State: +TERMINATED/.test((await runCliCaptured(['peering', 'read', '-name', 'dc2-peer'], envA)).out));
  } finally {
    killAll([a.child, b.child]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
