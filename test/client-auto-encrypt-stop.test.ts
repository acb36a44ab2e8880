// A client agent stopped while it still waits for its auto_encrypt certificate (no server signs
// it) binds nothing afterwards: start() gives up instead of going on to open its ports.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createClientAgent } from '../src/index.ts';
import { loadConfig } from '../src/agent/config/index.ts';
import { silentLogger } from '../src/log.ts';
import { freePort } from './support/ports.ts';
import { testCA } from './support/tls-cert.ts';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

test('a client agent stopped while waiting for its auto_encrypt certificate opens no port', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-ae-stop-'));
  try {
    const ca = await testCA();
    fs.writeFileSync(path.join(dir, 'ca.pem'), ca.cert);
    const [http, serf, server] = [await freePort(), await freePort(), await freePort()];
    fs.writeFileSync(path.join(dir, 'c.hcl'), `node_name = "c1"
data_dir = "${path.join(dir, 'data')}"
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
retry_join = ["127.0.0.1:${serf + 1}"]
tls { defaults { ca_file = "${path.join(dir, 'ca.pem')}" } }
auto_encrypt { tls = true }
ports { http = ${http} https = -1 dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${serf} serf_wan = -1 server = ${server} }
`);
    const { config } = await loadConfig({ args: ['-config-file', path.join(dir, 'c.hcl')], env: {} });
    const agent = createClientAgent(config, { logger: silentLogger() });
    const starting = agent.start();
    // Its first AutoEncrypt.Sign finds no server; it waits to try again.
    await new Promise((r) => setTimeout(r, 300));
    await agent.stop();
    await starting.catch(() => undefined);
    const open = !(await refused(http));
    assert.deepEqual(agent.httpAddresses(), []);
    assert.equal(open, false, 'the HTTP port was opened after stop()');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
