// Central service config on a client agent (in-process server and client): the client resolves a
// sidecar's defaults from a server over the internal RPC, for an API registration at once and for a
// config-file sidecar once the server answers, and merges again when the entries change.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createAgent, createClientAgent, type Agent, type ClientAgent } from '../src/index.ts';
import { loadConfig } from '../src/agent/config/index.ts';
import { silentLogger } from '../src/log.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-central-client-'));
let server: Agent;
let client: ClientAgent;
let serverHttp = '';
let clientHttp = '';

async function configOf(name: string, hcl: string) {
  fs.writeFileSync(path.join(dir, `${name}.hcl`), hcl);
  return (await loadConfig({ args: ['-config-file', path.join(dir, `${name}.hcl`)], env: {} })).config;
}

async function call(addr: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const r = await fetch(`http://${addr}${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(20_000) });
  const text = await r.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text };
}

const proxyOf = async (id: string) => (await call(clientHttp, 'GET', `/v1/agent/service/${id}`)).json?.Proxy;

before(async () => {
  const [sh, ss, sr, ch, cs] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const common = (http: number, serf: number) => `data_dir = "${dir}/${http}"
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
ports { http = ${http} https = -1 dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${serf} serf_wan = -1 server = ${sr} }
`;
  server = createAgent(await configOf('s', `node_name = "s1"\nserver = true\nbootstrap_expect = 1\nconnect { enabled = true }\n${common(sh, ss)}`), { logger: silentLogger() });
  await server.start();
  serverHttp = `127.0.0.1:${sh}`;
  await until('a leader', 20_000, async () => (await call(serverHttp, 'GET', '/v1/status/leader')).json);
  assert.equal((await call(serverHttp, 'PUT', '/v1/config', { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } })).status, 200);
  const sidecar = `service {
  name = "files"
  port = 7070
  connect { sidecar_service { proxy { upstreams = [ { destination_name = "db", local_bind_port = 9191 } ] } } }
}`;
  client = createClientAgent(await configOf('c', `node_name = "c1"\nretry_join = ["127.0.0.1:${ss}"]\n${common(ch, cs)}\n${sidecar}`), { logger: silentLogger() });
  await client.start();
  clientHttp = `127.0.0.1:${ch}`;
  await until('client knows the server', 20_000, async () => client.servers.servers().length > 0);
});

after(async () => {
  await client?.stop();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a config-file sidecar on a client is merged once a server answers', async () => {
  await until('the config-file sidecar merged', 20_000, async () => (await proxyOf('files-sidecar-proxy'))?.Config?.protocol === 'http');
  const p = await proxyOf('files-sidecar-proxy');
  assert.deepEqual(p.Upstreams[0].Config, { protocol: 'http' });
});

test('an API sidecar on a client is merged before the registration answers, and again when entries change', async () => {
  const reg = await call(clientHttp, 'PUT', '/v1/agent/service/register', {
    Name: 'web', Port: 8080, Connect: { SidecarService: { Proxy: { Upstreams: [{ DestinationName: 'db', LocalBindPort: 9192 }] } } },
  });
  assert.equal(reg.status, 200, reg.text);
  const p = await proxyOf('web-sidecar-proxy');
  assert.deepEqual(p.Config, { protocol: 'http' });
  assert.equal((await call(serverHttp, 'PUT', '/v1/config', { Kind: 'service-defaults', Name: 'db', Protocol: 'grpc' })).status, 200);
  await until('the upstream protocol merged again', 20_000, async () => (await proxyOf('web-sidecar-proxy')).Upstreams[0].Config.protocol === 'grpc');
  // The client syncs the merged registration to the servers' catalog.
  await until('the catalog has it', 20_000, async () => {
    const r = await call(serverHttp, 'GET', '/v1/catalog/service/web-sidecar-proxy');
    return r.json?.[0]?.ServiceProxy?.Upstreams?.[0]?.Config?.protocol === 'grpc';
  });
});
