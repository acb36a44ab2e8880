// enable_agent_tls_for_checks: an HTTPS check against a server that requires a client certificate
// from the agent's CA passes when the agent presents tls.internal_rpc's key pair, trusts that CA
// (its server name defaulting to server_name), and fails without the setting.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createServer, type Server } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/agent/config/load.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { testCA } from './support/tls-cert.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-check-tls-'));
let server: Server;
let url = '';
let tlsHcl = '';
const seen: string[] = [];

before(async () => {
  const ca = await testCA();
  const target = await ca.issue('check-target', 'server', ['check-target']);
  fs.writeFileSync(path.join(dir, 'target.json'), JSON.stringify(target));
  const agent = await ca.issue('agent', 'server');
  const write = (name: string, text: string) => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };
  tlsHcl = `tls { internal_rpc { ca_file = "${write('ca.pem', ca.cert)}" cert_file = "${write('agent.pem', agent.cert)}" key_file = "${write('agent-key.pem', agent.key)}" } }`;
  server = createServer({ cert: target.cert, key: target.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seen.push(String((req.socket as import('node:tls').TLSSocket).servername));
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // An IP address, so the SNI name is the agent's server_name; the certificate holds 127.0.0.1 too.
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}/health`;
});
after(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function checkStatus(hcl: string): Promise<{ status: string; output: string }> {
  const { config } = await loadConfig({ args: ['-dev', '-hcl', `${tlsHcl}\n${hcl}`], readOnly: true, hostname: 'h' });
  let dev: DevAgent | undefined;
  try {
    dev = await startDevAgent({ config: { tls: config.tls, raw: config.raw } });
    const reg = await fetch(`http://${dev.httpAddr}/v1/agent/check/register`, {
      method: 'PUT', body: JSON.stringify({ Name: 'tls', HTTP: url, Interval: '1s' }),
    });
    assert.equal(reg.status, 200, await reg.text());
    for (let i = 0; i < 400; i++) {
      const checks = (await (await fetch(`http://${dev.httpAddr}/v1/agent/checks`)).json()) as Record<string, { Status: string; Output: string }>;
      const c = checks.tls;
      if (c && c.Status !== 'critical' || c?.Output) return { status: c.Status, output: c.Output };
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('the check never ran');
  } finally {
    await dev?.stop();
  }
}

test('with enable_agent_tls_for_checks the check presents the agent\'s certificate and passes', async () => {
  const r = await checkStatus('enable_agent_tls_for_checks = true\nserver_name = "check-target"');
  assert.equal(r.status, 'passing', r.output);
  assert.ok(seen.includes('check-target'), `SNI names seen: ${seen.join(', ')}`);
});

test('without it the check uses the system roots, no client certificate, and is critical', async () => {
  const r = await checkStatus('');
  assert.equal(r.status, 'critical');
  assert.match(r.output, /certificate/);
});

test('a gRPC check with grpc_use_tls presents the agent\'s key pair to a server that requires one', async () => {
  const grpc = await import('@grpc/grpc-js');
  const { HEALTH_CHECK_PATH, encodeHealthResponse, decodeHealthStatus } = await import('../src/agent/checks/grpc.ts');
  const { harness } = await import('../src/agent/checks/test-support.ts');
  const { TlsConfigurator } = await import('../src/agent/tls-configurator.ts');
  const { config } = await loadConfig({ args: ['-dev', '-hcl', tlsHcl], readOnly: true, hostname: 'h' });
  const tls = new TlsConfigurator('dc1');
  tls.update(config.tls);
  const ca = fs.readFileSync(path.join(dir, 'ca.pem'));
  // The health server's certificate comes from the same CA as the agent's (issued in before()).
  const serverCert = JSON.parse(fs.readFileSync(path.join(dir, 'target.json'), 'utf8')) as { cert: string; key: string };
  const server = new grpc.Server();
  server.addService({
    Check: {
      path: HEALTH_CHECK_PATH, requestStream: false, responseStream: false,
      requestSerialize: (v: Buffer) => v, requestDeserialize: (b: Buffer) => b,
      responseSerialize: (s: number) => encodeHealthResponse(s), responseDeserialize: decodeHealthStatus,
    },
  }, { Check: (_call: unknown, cb: (err: null, v: number) => void) => cb(null, 1) });
  const creds = grpc.ServerCredentials.createSsl(ca, [{ cert_chain: Buffer.from(serverCert.cert), private_key: Buffer.from(serverCert.key) }], true);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))));
  try {
    const def = { GRPC: `127.0.0.1:${port}`, GRPCUseTLS: true, Interval: 1000 };
    const withAgent = await harness(def, { agentTls: tls.checkTls('check-target'), realClock: true });
    assert.deepEqual(await withAgent.runOnce(), ['passing', `gRPC check 127.0.0.1:${port}: success`]);
    withAgent.runner.stop();
    const without = await harness(def, { tlsCA: ca.toString(), realClock: true });
    assert.equal((await without.runOnce())[0], 'critical', 'no client certificate: refused');
    without.runner.stop();
  } finally {
    server.forceShutdown();
  }
});
