// HTTP/2 and gRPC chains through the built-in proxy's L7 upstream on a dev agent: h2c
// applications (and a grpc-js server) in two versions behind their sidecars; web's upstream
// speaks h2c, routes each stream by the chain (header route, default subset, live splitter
// change) over mTLS, and passes bodies and trailers (gRPC status) through.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';
import { ProxyRig } from './support/connect-proxy.ts';

let dev: DevAgent;
let rig: ProxyRig;
let rpcUp = 0;
let grpcUp = 0;
const closers: (() => void)[] = [];

async function put(path: string, body: unknown): Promise<void> {
  const r = await fetch(`http://${dev.httpAddr}${path}`, { method: 'PUT', body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

/** An h2c server answering with its version, the path and the body length it got, and a trailer. */
function h2app(version: string): Promise<number> {
  const s = http2.createServer(async (req, res) => {
    let body = 0;
    for await (const c of req) body += (c as Buffer).length;
    res.setHeader('content-type', 'application/json');
    res.addTrailers({ 'x-served-by': version });
    res.end(JSON.stringify({ version, path: req.url, body }));
    // /goaway ends the session after the answer, as a server shedding connections does.
    if (req.url === '/goaway') req.stream.session?.close();
  });
  closers.push(() => s.close());
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
}

/** A grpc-js server with one unary method, /test.Echo/Echo, answering `<version>:<request>`. */
async function grpcApp(version: string): Promise<number> {
  const server = new grpc.Server();
  const raw = (b: Buffer) => b;
  server.addService(
    { echo: { path: '/test.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
    { echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(`${version}:${call.request.toString()}`)) },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  closers.push(() => server.forceShutdown());
  return port;
}

/** Registers <service>-<version> and its sidecar (Meta version) on `appPort`, and runs the sidecar. */
async function instance(service: string, version: string, appPort: number): Promise<void> {
  const pub = await freePort();
  const id = `${service}-${version}`;
  await put('/v1/agent/service/register', { Name: service, ID: id, Port: appPort, Meta: { version } });
  await put('/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: `${id}-sidecar-proxy`, Name: `${service}-sidecar-proxy`, Address: '127.0.0.1', Port: pub, Meta: { version },
    Proxy: { DestinationServiceName: service, DestinationServiceID: id, LocalServiceAddress: '127.0.0.1', LocalServicePort: appPort },
  });
  await rig.proxy(['-sidecar-for', id]);
}

async function chainFor(service: string, protocol: string): Promise<void> {
  await put('/v1/config', { Kind: 'service-defaults', Name: service, Protocol: protocol });
  await put('/v1/config', {
    Kind: 'service-resolver', Name: service, DefaultSubset: 'v1',
    Subsets: { v1: { Filter: 'Service.Meta.version == v1' }, v2: { Filter: 'Service.Meta.version == v2' }, v3: { Filter: 'Service.Meta.version == v3' } },
  });
  await put('/v1/config', {
    Kind: 'service-router', Name: service,
    Routes: [
      { Match: { HTTP: { Header: [{ Name: 'x-canary', Exact: '1' }] } }, Destination: { ServiceSubset: 'v2' } },
      { Match: { HTTP: { PathExact: '/impostor' } }, Destination: { ServiceSubset: 'v3' } },
    ],
  });
}

interface H2Answer { status: number; json: { version: string; path: string; body: number }; trailers: http2.IncomingHttpHeaders }

function h2get(session: http2.ClientHttp2Session, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': path, ':method': body ? 'POST' : 'GET', ...headers }, { endStream: !body });
    let status = 0;
    let text = '';
    let trailers: http2.IncomingHttpHeaders = {};
    s.on('response', (h) => { status = Number(h[':status']); });
    s.on('trailers', (t) => { trailers = t; });
    s.on('data', (d) => { text += d; });
    s.on('end', () => { try { resolve({ status, json: JSON.parse(text), trailers }); } catch { reject(new Error(`${status} ${text}`)); } });
    s.on('error', reject);
    if (body) s.end(body);
  });
}

before(async () => {
  dev = await startDevAgent();
  rig = new ProxyRig(dev.httpAddr);
  await chainFor('rpc', 'http2');
  await chainFor('grpcsvc', 'grpc');
  for (const v of ['v1', 'v2']) {
    await instance('rpc', v, await h2app(v));
    await instance('grpcsvc', v, await grpcApp(v));
  }
  // rpc's v3 is registered as an rpc instance, but its proxy holds the leaf of another service.
  const [v3, pub] = [await h2app('v3'), await freePort()];
  await rig.proxy(['-service', 'impostor', '-service-addr', `127.0.0.1:${v3}`, '-listen', `127.0.0.1:${pub}`]);
  await put('/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: 'rpc-v3-sidecar-proxy', Name: 'rpc-sidecar-proxy', Address: '127.0.0.1', Port: pub, Meta: { version: 'v3' },
    Proxy: { DestinationServiceName: 'rpc', LocalServiceAddress: '127.0.0.1', LocalServicePort: v3 },
  });
  [rpcUp, grpcUp] = [await freePort(), await freePort()];
  await rig.proxy(['-service', 'web', '-upstream', `rpc:${rpcUp}`, '-upstream', `grpcsvc:${grpcUp}`]);
});

after(async () => {
  await rig?.close();
  for (const c of closers) c();
  await dev?.stop();
});

test('an http2 chain: h2c streams on one session are routed (default subset v1, x-canary to v2), trailers and bodies pass', async () => {
  const session = http2.connect(`http://127.0.0.1:${rpcUp}`);
  try {
    const [plain, canary] = await Promise.all([h2get(session, '/a?x=1'), h2get(session, '/b', { 'x-canary': '1' })]);
    assert.deepEqual([plain.status, plain.json.version, plain.json.path], [200, 'v1', '/a?x=1']);
    assert.equal(plain.trailers['x-served-by'], 'v1');
    assert.equal(canary.json.version, 'v2');
    const big = await h2get(session, '/upload', {}, Buffer.alloc(2 * 1024 * 1024, 1));
    assert.deepEqual([big.json.version, big.json.body], ['v1', 2 * 1024 * 1024]);
  } finally {
    session.close();
  }
});

test('an HTTP/1.1 client of an http2 chain is answered too, over h2 to the instance (Envoy listeners take either), on a kept-alive connection', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path: string, headers: Record<string, string> = {}, body?: string) => new Promise<{ status: number; json: { version: string; path: string; body: number } }>((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port: rpcUp, path, headers, agent, method: body ? 'POST' : 'GET' }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => { try { resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }); } catch (err) { reject(new Error(`${res.statusCode} ${text}: ${(err as Error).message}`)); } });
    });
    r.on('error', reject);
    r.end(body);
  });
  try {
    const plain = await get('/h1?x=1');
    assert.deepEqual([plain.status, plain.json.version, plain.json.path], [200, 'v1', '/h1?x=1']);
    assert.equal((await get('/h1', { 'x-canary': '1' })).json.version, 'v2');
    assert.deepEqual((await get('/h1', {}, 'hello')).json.body, 5);
  } finally {
    agent.destroy();
  }
});

test("an h2 instance whose certificate is not the target service's is refused (503)", async () => {
  const session = http2.connect(`http://127.0.0.1:${rpcUp}`);
  try {
    const s = session.request({ ':path': '/impostor' });
    let status = 0;
    let text = '';
    s.on('response', (h) => { status = Number(h[':status']); });
    s.on('data', (d) => { text += d; });
    await new Promise((r) => s.on('close', r));
    assert.equal(status, 503);
    assert.equal(text, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
  } finally {
    session.close();
  }
});

test('an instance that closes its h2 session after each answer (GOAWAY) gets a new one: every request answered', async () => {
  const session = http2.connect(`http://127.0.0.1:${rpcUp}`);
  try {
    for (let i = 0; i < 20; i++) assert.equal((await h2get(session, '/goaway')).status, 200);
  } finally {
    session.close();
  }
});

test('an http2 chain follows a splitter written while the proxy runs', async () => {
  await put('/v1/config', { Kind: 'service-splitter', Name: 'rpc', Splits: [{ Weight: 0, ServiceSubset: 'v1' }, { Weight: 100, ServiceSubset: 'v2' }] });
  const session = http2.connect(`http://127.0.0.1:${rpcUp}`);
  try {
    await until('v2 takes the traffic', 10_000, async () => (await h2get(session, '/')).json.version === 'v2');
    for (let i = 0; i < 20; i++) assert.equal((await h2get(session, '/')).json.version, 'v2');
  } finally {
    session.close();
  }
});

function echo(client: grpc.Client, text: string, metadata = new grpc.Metadata()): Promise<string> {
  const raw = (b: Buffer) => b;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest('/test.Echo/Echo', raw, raw, Buffer.from(text), metadata, (err, res) => (err ? reject(err) : resolve(res!.toString())));
  });
}

test('a grpc chain: unary calls reach v1, or v2 with x-canary metadata, and the gRPC status comes back', async () => {
  const client = new grpc.Client(`127.0.0.1:${grpcUp}`, grpc.credentials.createInsecure());
  try {
    assert.equal(await echo(client, 'hi'), 'v1:hi');
    const md = new grpc.Metadata();
    md.set('x-canary', '1');
    assert.equal(await echo(client, 'hi', md), 'v2:hi');
    // An unknown method's UNIMPLEMENTED status comes back as a trailers-only answer.
    const raw = (b: Buffer) => b;
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      client.makeUnaryRequest('/test.Echo/Nope', raw, raw, Buffer.from('x'), (e) => resolve(e!));
    });
    assert.equal(err.code, grpc.status.UNIMPLEMENTED, err.details);
  } finally {
    client.close();
  }
});
