import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../log.ts';
import type { CompiledDiscoveryChain } from '../discovery-chain/index.ts';
import { proxyUpgrade, type UpgradeDeps } from './l7-upgrade.ts';

/** The timeouts upgrades were dialled with, and the instance each pick chose among two. */
const dials: number[] = [];
const chosen: number[] = [];
/** What the instance received: each request's method and path, in order. */
const seen: string[] = [];
let instance: http.Server;
let proxy: http.Server;
/** Upgraded connections, which the servers no longer track. */
const sockets: net.Socket[] = [];

const chain = {
  Protocol: 'http', StartNode: 'router:api',
  Nodes: {
    'router:api': {
      Type: 'router', Name: 'api',
      Routes: [
        { Definition: { Match: { HTTP: { PathPrefix: '/inject' } }, Destination: { RequestHeaders: { Set: { 'x-a': 'b\r\nx-smuggled: 1' } } } }, NextNode: 'resolver:api' },
        { Definition: { Match: { HTTP: { PathPrefix: '/rewrite' } }, Destination: { PrefixRewrite: '/x HTTP/1.1\r\n' } }, NextNode: 'resolver:api' },
        { Definition: { Match: { HTTP: { PathPrefix: '/' } } }, NextNode: 'resolver:api' },
      ],
    },
    'resolver:api': {
      Type: 'resolver', Name: 'api', Resolver: { Target: 'api.default.default.dc1' },
      LoadBalancer: { Policy: 'ring_hash', HashPolicies: [{ Field: 'header', FieldValue: 'x-user' }] },
    },
  },
  Targets: { 'api.default.default.dc1': { ID: 'api.default.default.dc1', Service: 'api', Namespace: 'default', Partition: 'default', Datacenter: 'dc1', Subset: {} } },
} as unknown as CompiledDiscoveryChain;

before(async () => {
  instance = http.createServer((req, res) => { seen.push(`${req.method} ${req.url}`); res.end('plain'); });
  // /ws switches to an echo protocol; any other upgrade is answered 426 on a connection kept open.
  instance.on('upgrade', (req: http.IncomingMessage, sock: net.Socket) => {
    sockets.push(sock);
    seen.push(`${req.method} ${req.url}${req.headers['x-smuggled'] ? ' smuggled' : ''}`);
    if (req.url !== '/ws') return void sock.write('HTTP/1.1 426 Upgrade Required\r\ncontent-length: 4\r\n\r\nnope');
    sock.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n');
    sock.on('data', (c) => sock.write(`echo:${c}`));
  });
  await new Promise<void>((r) => instance.listen(0, '127.0.0.1', () => r()));
  const port = (instance.address() as net.AddressInfo).port;
  const d = {
    svc: {
      leafCert: {}, caRoots: {},
      dial: (to: { host: string; port: number }, timeoutMs: number) => new Promise<net.Socket>((resolve) => {
        dials.push(timeoutMs);
        const s = net.connect(to.port, to.host, () => resolve(s));
      }),
    },
    chain: {
      chain, isL7: true,
      pick: async (_t: unknown, _r: unknown, _w: unknown, choose?: (keys: string[], state: unknown) => number) => {
        chosen.push(choose ? choose(['n/api-1', 'n/api-2'], { next: 0, inflight: new Map() }) : -1);
        return { to: { host: '127.0.0.1', port }, key: 'n/api', instances: { certUri: () => 'spiffe://t/ns/default/dc/dc1/svc/api', connectTimeoutMs: 1234, target: { SNI: 'api.default.dc1.internal.t' } } };
      },
    },
    random: () => 0, connectTimeoutMs: 5_000, log: silentLogger(),
  } as unknown as UpgradeDeps;
  proxy = http.createServer((_req, res) => res.end());
  proxy.on('upgrade', (req: http.IncomingMessage, sock: net.Socket, early: Buffer) => {
    sockets.push(sock);
    void proxyUpgrade(d, req, sock, early);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
});

after(() => {
  for (const s of sockets) s.destroy();
  instance.close();
  instance.closeAllConnections();
  proxy.close();
});

/** Writes `raw` to the proxy and collects all it answers until it closes the connection (or `until` is seen). */
function exchange(raw: string, until?: string): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect((proxy.address() as net.AddressInfo).port, '127.0.0.1', () => c.write(raw));
    let got = '';
    c.on('data', (d) => {
      got += d;
      if (until && got.includes(until)) c.destroy();
    });
    c.on('close', () => resolve(got));
    c.on('error', () => undefined);
  });
}

const up = (path: string) => `GET ${path} HTTP/1.1\r\nhost: api\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n`;

test('a 101 answer splices the connections; bytes sent early follow the switch', async () => {
  seen.length = 0;
  const got = await exchange(`${up('/ws')}hello`, 'echo:hello');
  assert.match(got, /^HTTP\/1\.1 101 /);
  assert.match(got, /echo:hello/);
  assert.deepEqual(seen, ['GET /ws']);
});

test('an upgrade the instance refuses is relayed and both connections close: a pipelined request never reaches the instance unrouted', async () => {
  seen.length = 0;
  const got = await exchange(`${up('/no')}GET /admin HTTP/1.1\r\nhost: api\r\n\r\n`);
  assert.match(got, /^HTTP\/1\.1 426 /);
  assert.doesNotMatch(got, /plain/);
  assert.deepEqual(seen, ['GET /no']);
});

test('route header changes or a rewrite that would put a line break into the upstream request are refused (503), nothing is sent', async () => {
  seen.length = 0;
  assert.match(await exchange(up('/inject')), /^HTTP\/1\.1 503 [^]*no healthy upstream$/);
  assert.match(await exchange(up('/rewrite/y')), /^HTTP\/1\.1 503 /);
  assert.deepEqual(seen, []);
});

test("an upgrade's instance is chosen by the resolver's load balancer and dialled within the target's ConnectTimeout", async () => {
  dials.length = 0;
  chosen.length = 0;
  for (let i = 0; i < 4; i++) await exchange(`GET /ws HTTP/1.1\r\nhost: api\r\nconnection: upgrade\r\nupgrade: echo\r\nx-user: u7\r\n\r\nhi`, 'echo:hi');
  assert.deepEqual(dials, [1234, 1234, 1234, 1234]);
  assert.equal(new Set(chosen).size, 1, `one user stays on one instance: ${chosen.join(',')}`);
  assert.ok(chosen[0] >= 0);
});
