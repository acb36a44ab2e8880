import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, test } from 'node:test';
import type { ConsulClient, RequestSpec } from '../../api/index.ts';
import { silentLogger } from '../../log.ts';
import { MeshGateway, meshRoute } from './mesh.ts';

const TD = '11111111-2222-3333-4444-555555555555.consul';

test('meshRoute: services of the local datacenter by Consul SNI forms, any other datacenter to its gateways', () => {
  assert.deepEqual(meshRoute(`db.default.dc1.internal.${TD}`, 'dc1', TD), { local: { service: 'db', namespace: 'default', partition: 'default', subset: '' } });
  assert.deepEqual(meshRoute(`v2.db.default.dc1.internal.${TD}`, 'dc1', TD), { local: { service: 'db', namespace: 'default', partition: 'default', subset: 'v2' } });
  assert.deepEqual(meshRoute(`DB.default.ap1.DC1.internal-v1.${TD}`, 'dc1', TD), { local: { service: 'db', namespace: 'default', partition: 'ap1', subset: '' } });
  assert.deepEqual(meshRoute(`db.default.dc2.internal.${TD}`, 'dc1', TD), { remoteDc: 'dc2' });
  assert.deepEqual(meshRoute(`dc2.internal.${TD}`, 'dc1', TD), { remoteDc: 'dc2' });
  assert.equal(meshRoute(`dc1.internal.${TD}`, 'dc1', TD), null, 'the local datacenter names no service');
  assert.equal(meshRoute('db.default.dc1.internal.other.consul', 'dc1', TD), null, 'another trust domain');
  assert.equal(meshRoute(`a.b.c.db.default.dc1.internal.${TD}`, 'dc1', TD), null);
  assert.equal(meshRoute('example.com', 'dc1', TD), null);
});

/** A TCP server recording the first bytes of each connection and answering `name`. */
async function sink(name: string): Promise<{ server: net.Server; port: number; got: Buffer[] }> {
  const got: Buffer[] = [];
  const server = net.createServer((s) => s.once('data', (b: Buffer) => { got.push(b); s.end(name); }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, got };
}

const local = await sink('local-instance');
const remote = await sink('dc2-gateway');
after(() => { local.server.close(); remote.server.close(); });

/** The agent reads made, by path and datacenter. */
const reads: string[] = [];

function fakeClient(): ConsulClient {
  const ok = (data: unknown) => Promise.resolve({ data, meta: { index: 1 } });
  return {
    request: (spec: RequestSpec) => {
      if (spec.path === '/v1/config/service-resolver/db') return Promise.resolve({ status: 200, body: Buffer.from(JSON.stringify({ Subsets: { v2: { Filter: 'Service.Meta.version == 2' } } })) });
      return Promise.resolve({ status: 404, body: Buffer.from('') });
    },
    json: (spec: RequestSpec) => {
      const dc = spec.options?.datacenter ?? '';
      reads.push(`${spec.path}@${dc}`);
      if (spec.path === '/v1/agent/self') return ok({ Config: { Datacenter: 'dc1' } });
      if (spec.path === '/v1/agent/connect/ca/roots') {
        if (spec.options?.index) return new Promise((_r, reject) => spec.options?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
        return ok({ TrustDomain: TD, ActiveRootID: '', Roots: [] });
      }
      if (spec.path === '/v1/health/connect/db' && !dc && spec.query?.filter) {
        return spec.query.filter === 'Service.Meta.version == 2' ? ok([{ Node: { Address: '127.0.0.1' }, Service: { Address: '127.0.0.1', Port: local.port } }]) : ok([]);
      }
      if (spec.path === '/v1/health/connect/db' && !dc) return ok([{ Node: { Node: 'n1', Address: '127.0.0.1' }, Service: { ID: 'db-sidecar', Service: 'db-sidecar-proxy', Kind: 'connect-proxy', Address: '', Port: local.port } }]);
      if (spec.path === '/v1/health/connect/none') return ok([]);
      if (spec.path === '/v1/catalog/datacenters') return ok(['dc1', 'dc2']);
      if (spec.path === '/v1/catalog/services' && dc === 'dc2') return ok({ 'mesh-gateway': [] });
      if (spec.path === '/v1/health/service/mesh-gateway' && dc === 'dc2') {
        return ok([{ Node: { Address: '10.0.0.9' }, Service: { Kind: 'mesh-gateway', Address: '10.0.0.9', Port: 1, TaggedAddresses: { lan: { Address: '10.0.0.9', Port: 1 }, wan: { Address: '127.0.0.1', Port: remote.port } } } }]);
      }
      return Promise.reject(new Error(`unexpected ${spec.path} dc=${dc}`));
    },
  } as unknown as ConsulClient;
}

/** The ClientHello Node's TLS client sends for `servername`. */
async function clientHello(servername: string): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (b: Buffer) => { resolve(b); s.destroy(); })));
  const c = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, servername, rejectUnauthorized: false });
  c.on('error', () => undefined);
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

/** Sends a ClientHello for `servername` through the gateway (in two writes) and returns what came back before the close. */
async function through(port: number, servername: string): Promise<string> {
  const hello = await clientHello(servername);
  const c = net.connect({ host: '127.0.0.1', port });
  c.on('error', () => undefined);
  c.write(hello.subarray(0, 10));
  setImmediate(() => c.write(hello.subarray(10)));
  const chunks: Buffer[] = [];
  c.on('data', (b: Buffer) => chunks.push(b));
  await new Promise<void>((resolve) => c.once('close', () => resolve()));
  return Buffer.concat(chunks).toString();
}

test('the mesh gateway splices a local service to its sidecar and another datacenter to its gateway, replaying the hello', async () => {
  let now = 0;
  const gw = new MeshGateway({ client: fakeClient(), logger: silentLogger(), service: 'mesh-gateway', binds: [{ host: '127.0.0.1', port: 0 }], now: () => now });
  await gw.start();
  try {
    const port = Number(gw.addresses[0].split(':')[1]);
    assert.equal(await through(port, `db.default.dc1.internal.${TD}`), 'local-instance');
    assert.equal(local.got.length, 1);
    assert.equal(local.got[0][0], 0x16, 'the instance got the ClientHello itself');
    assert.equal(await through(port, `db.default.dc2.internal.${TD}`), 'dc2-gateway');
    const gwReads = () => reads.filter((r) => r === '/v1/catalog/services@dc2').length;
    assert.equal(gwReads(), 1);
    now = 4_999;
    assert.equal(await through(port, `web.default.dc2.internal.${TD}`), 'dc2-gateway');
    assert.equal(gwReads(), 1, 'the datacenter\'s gateways are reused within the TTL');
    now = 5_000;
    assert.equal(await through(port, `dc2.internal.${TD}`), 'dc2-gateway');
    assert.equal(gwReads(), 2, 'and read again after it');
    assert.equal(await through(port, `none.default.dc1.internal.${TD}`), '', 'no instance: closed');
    assert.equal(await through(port, 'db.default.dc1.internal.other.consul'), '', 'unknown trust domain: closed');
    assert.equal(await through(port, `v2.db.default.dc1.internal.${TD}`), 'local-instance', 'a subset by its resolver filter');
    assert.equal(await through(port, `v9.db.default.dc1.internal.${TD}`), '', 'a subset the resolver does not define: closed');
    assert.equal(await through(port, `v2.none.default.dc1.internal.${TD}`), '', 'no resolver: closed');
    assert.equal(await through(port, `db.default.dc9.internal.${TD}`), '', 'a datacenter the federation does not know: closed');
    assert.ok(!reads.some((r) => r.endsWith('@dc9')), 'without a read forwarded to it');
    assert.deepEqual(gw.stats, { accepted: 10, local: 2, remote: 3, rejected: 5 });
  } finally {
    await gw.close();
  }
});

test('the mesh gateway refuses a connection that it dialled itself (an instance registered at its own address), instead of looping', async () => {
  let self = 0;
  const base = fakeClient();
  const client = {
    ...base,
    json: (spec: RequestSpec) => spec.path === '/v1/health/connect/loop'
      ? Promise.resolve({ data: [{ Node: { Address: '127.0.0.1' }, Service: { Kind: 'connect-proxy', Address: '127.0.0.1', Port: self } }], meta: { index: 1 } })
      : base.json(spec),
  } as unknown as ConsulClient;
  const gw = new MeshGateway({ client, logger: silentLogger(), service: 'mesh-gateway', binds: [{ host: '127.0.0.1', port: 0 }] });
  await gw.start();
  try {
    self = Number(gw.addresses[0].split(':')[1]);
    assert.equal(await through(self, `loop.default.dc1.internal.${TD}`), '');
    assert.deepEqual(gw.stats, { accepted: 2, local: 1, remote: 0, rejected: 1 }, 'one hop, then the connection back to itself is closed');
  } finally {
    await gw.close();
  }
});

test('the mesh gateway carries a half-close: a client that ends its side after sending still gets the answer', async () => {
  // An instance that reads until the client's end, then answers with the byte count and ends.
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    let n = 0;
    s.on('data', (b: Buffer) => { n += b.length; });
    s.on('end', () => s.end(`read ${n}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = fakeClient();
  const client = {
    ...base,
    json: (spec: RequestSpec) => spec.path === '/v1/health/connect/halfclose'
      ? Promise.resolve({ data: [{ Node: { Address: '127.0.0.1' }, Service: { Kind: 'connect-proxy', Address: '127.0.0.1', Port: (server.address() as net.AddressInfo).port } }], meta: { index: 1 } })
      : base.json(spec),
  } as unknown as ConsulClient;
  const gw = new MeshGateway({ client, logger: silentLogger(), service: 'mesh-gateway', binds: [{ host: '127.0.0.1', port: 0 }] });
  await gw.start();
  try {
    const hello = await clientHello(`halfclose.default.dc1.internal.${TD}`);
    const c = net.connect({ host: '127.0.0.1', port: Number(gw.addresses[0].split(':')[1]), allowHalfOpen: true });
    c.on('error', () => undefined);
    const chunks: Buffer[] = [];
    c.on('data', (b: Buffer) => chunks.push(b));
    c.write(hello);
    c.end('more');
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    assert.equal(Buffer.concat(chunks).toString(), `read ${hello.length + 4}`);
    assert.equal(gw.stats.local, 1);
  } finally {
    await gw.close();
    server.close();
  }
});
