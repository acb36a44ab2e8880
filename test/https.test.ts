// The HTTPS API listener end to end: certificates made at test time (a CA, server and client
// leaves, and a second CA nobody trusts), KV over HTTPS/1.1 and HTTP/2 (ALPN), blocking queries
// on h2 streams, verify_incoming client certificates, the CLI and the npm `consul` client with
// TLS options, /v1/agent/self's TLS view, and Consul's TLS configuration errors.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import Consul from 'consul';
import { loadConfig } from '../src/agent/config/index.ts';
import type { RuntimeConfig } from '../src/index.ts';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { testCA } from './support/tls-cert.ts';
import { until } from './support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'proconsul-https-'));
const file = (name: string, content: string) => {
  writeFileSync(join(dir, name), content);
  return join(dir, name);
};
const files: Record<string, string> = {};

/** The TLS part of a config built by the real loader from an HCL `tls` stanza. */
async function tlsConfig(hcl: string): Promise<RuntimeConfig['tls']> {
  return (await loadConfig({ args: ['-dev', '-hcl', hcl] })).config.tls;
}

async function startHttps(tlsHcl: string, more: Partial<RuntimeConfig> = {}): Promise<{ dev: DevAgent; port: number }> {
  const port = await freePort();
  const dev = await startDevAgent({
    config: {
      ...more,
      ports: { http: 0, https: port, dns: -1, grpc: -1, grpcTls: -1, serfLan: 8301, serfWan: 8302, server: 8300 },
      httpsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port }], tls: await tlsConfig(tlsHcl),
    },
  });
  return { dev, port };
}

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string; alpn: string | false | null }

/** One HTTPS/1.1 request; rejects when the TLS handshake or the request fails. */
function request(port: number, path: string, opts: https.RequestOptions & { ALPNProtocols?: string[]; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let alpn: string | false | null = null;
    const req = https.request({ host: '127.0.0.1', port, path, agent: false, ...opts }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, alpn }));
    });
    req.once('socket', (sock: TLSSocket) => sock.once('secureConnect', () => (alpn = sock.alpnProtocol)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** One request on an HTTP/2 session. */
function h2(session: http2.ClientHttp2Session, method: string, path: string, body?: string): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': method, ':path': path });
    let headers: http2.IncomingHttpHeaders = {};
    let text = '';
    stream.on('response', (h) => (headers = h));
    stream.setEncoding('utf8').on('data', (c) => (text += c));
    stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body: text }));
    stream.on('error', reject);
    stream.end(body);
  });
}

before(async () => {
  const ca = await testCA();
  const rogue = await testCA('Rogue CA');
  const server = await ca.issue('server.dc1.consul', 'server', ['server.dc1.consul']);
  const client = await ca.issue('client.dc1.consul', 'client');
  const stranger = await rogue.issue('client.dc1.consul', 'client');
  Object.assign(files, {
    ca: file('ca.pem', ca.cert), cert: file('server.pem', server.cert), key: file('server-key.pem', server.key),
    clientCert: file('client.pem', client.cert), clientKey: file('client-key.pem', client.key),
    rogueCert: file('rogue.pem', stranger.cert), rogueKey: file('rogue-key.pem', stranger.key),
  });
});

describe('HTTPS without client certificates', () => {
  let dev: DevAgent;
  let port: number;
  let ca: string;

  before(async () => {
    ({ dev, port } = await startHttps(`tls { defaults { ca_file = "${files.ca}" cert_file = "${files.cert}" key_file = "${files.key}" } }`));
    ca = (await import('node:fs')).readFileSync(files.ca, 'utf8');
  });
  after(async () => {
    await dev?.stop();
  });

  test('KV PUT and GET over HTTPS/1.1; the plain HTTP listener still answers', async () => {
    const put = await request(port, '/v1/kv/tls/hello', { method: 'PUT', ca, body: 'world', ALPNProtocols: ['http/1.1'] });
    assert.equal(put.status, 200);
    assert.equal(put.body, 'true');
    assert.equal(put.alpn, 'http/1.1');
    const get = await request(port, '/v1/kv/tls/hello?raw', { ca });
    assert.deepEqual([get.status, get.body], [200, 'world']);
    const plain = await fetch(`http://${dev.httpAddr}/v1/kv/tls/hello?raw`);
    assert.equal(await plain.text(), 'world');
  });

  test('a client that does not trust the CA fails the handshake', async () => {
    await assert.rejects(request(port, '/v1/kv/tls/hello'), (e: NodeJS.ErrnoException) => e.code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' || e.code === 'SELF_SIGNED_CERT_IN_CHAIN');
  });

  test('HTTP/2 is negotiated by ALPN; a blocking query on one stream wakes on a write from another', async () => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca });
    try {
      await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
      assert.equal(session.alpnProtocol, 'h2');
      assert.equal((await h2(session, 'PUT', '/v1/kv/h2/key', 'v1')).body, 'true');
      const first = await h2(session, 'GET', '/v1/kv/h2/key');
      assert.equal(first.status, 200);
      const index = Number(first.headers['x-consul-index']);
      assert.ok(index > 0);
      assert.equal(first.headers['content-type'], 'application/json');
      const blocked = h2(session, 'GET', `/v1/kv/h2/key?index=${index}&wait=20s`);
      let settled = false;
      void blocked.finally(() => (settled = true));
      // The blocking stream is still open while other streams on the same connection complete.
      assert.equal((await h2(session, 'GET', '/v1/status/leader')).status, 200);
      assert.equal(settled, false);
      assert.equal((await h2(session, 'PUT', '/v1/kv/h2/key', 'v2')).body, 'true');
      const woke = await blocked;
      assert.ok(Number(woke.headers['x-consul-index']) > index);
      const [pair] = JSON.parse(woke.body) as { Value: string }[];
      assert.equal(Buffer.from(pair.Value, 'base64').toString(), 'v2');
      // A stream reset mid-query leaves the connection usable.
      const gone = session.request({ ':path': `/v1/kv/h2/key?index=${Number(woke.headers['x-consul-index'])}&wait=20s` });
      gone.on('error', () => {});
      gone.close(http2.constants.NGHTTP2_CANCEL);
      assert.equal((await h2(session, 'GET', '/v1/kv/h2/key?raw')).body, 'v2');
      // Consul's HTTP/2 server (Go's default) allows 250 streams per connection.
      assert.equal(session.remoteSettings.maxConcurrentStreams, 250);
    } finally {
      session.close();
    }
  });

  test('streamed (monitor) and binary (snapshot) answers work over HTTP/2', async () => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca });
    try {
      const snap = await new Promise<{ status: number; size: number }>((resolve, reject) => {
        const stream = session.request({ ':path': '/v1/snapshot' });
        let status = 0;
        let size = 0;
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.on('data', (c: Buffer) => (size += c.length));
        stream.on('end', () => resolve({ status, size }));
        stream.on('error', reject);
        stream.end();
      });
      assert.equal(snap.status, 200);
      assert.ok(snap.size > 0);
      // The monitor answers its headers at once and keeps the stream open until the client resets it.
      const monitor = session.request({ ':path': '/v1/agent/monitor?loglevel=debug' });
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => monitor.once('response', resolve));
      assert.equal(headers[':status'], 200);
      monitor.on('error', () => {});
      monitor.close(http2.constants.NGHTTP2_CANCEL);
      assert.equal((await h2(session, 'GET', '/v1/status/leader')).status, 200);
    } finally {
      session.close();
    }
  });

  test('the CLI reaches it with CONSUL_HTTP_ADDR=https://… and CONSUL_CACERT, or CONSUL_HTTP_SSL_VERIFY=false', async () => {
    const cli = async (env: NodeJS.ProcessEnv) => {
      const io = memoryIO({ env });
      return { code: await runCli(['kv', 'get', 'tls/hello'], io), out: io.out, err: io.err };
    };
    const addr = `https://127.0.0.1:${port}`;
    assert.deepEqual(await cli({ CONSUL_HTTP_ADDR: addr, CONSUL_CACERT: files.ca }), { code: 0, out: 'world\n', err: '' });
    assert.deepEqual(await cli({ CONSUL_HTTP_ADDR: addr, CONSUL_HTTP_SSL_VERIFY: 'false' }), { code: 0, out: 'world\n', err: '' });
    const untrusted = await cli({ CONSUL_HTTP_ADDR: addr });
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.err, /^Error querying Consul agent: /);
  });

  test('the plain HTTP listener does not speak h2c, like Consul', async () => {
    const session = http2.connect(`http://${dev.httpAddr}`);
    session.on('error', () => {});
    await assert.rejects(h2(session, 'GET', '/v1/status/leader'));
    session.destroy();
  });

  test('the npm consul client works with secure: true and an https agent carrying the CA', async () => {
    const consul = new Consul({ host: '127.0.0.1', port, secure: true, agent: new https.Agent({ ca, keepAlive: true }) });
    await consul.kv.set('npm/tls', 'yes');
    const pair = await consul.kv.get('npm/tls') as { Value: string };
    assert.equal(pair.Value, 'yes');
    consul.destroy();
  });

  test('/v1/agent/self DebugConfig shows the HTTPS listener and TLS settings (key file hidden)', async () => {
    const self = await request(port, '/v1/agent/self', { ca });
    const debug = (JSON.parse(self.body) as { DebugConfig: Record<string, any> }).DebugConfig;
    assert.equal(debug.HTTPSPort, port);
    assert.deepEqual(debug.HTTPSAddrs, [`tcp://127.0.0.1:${port}`]);
    assert.equal(debug.HTTPSHandshakeTimeout, '5s');
    assert.deepEqual(debug.TLS.HTTPS, {
      VerifyIncoming: false, CAFile: files.ca, CAPath: '', CertFile: files.cert, KeyFile: 'hidden', TLSMinVersion: 'TLSv1_2',
      CipherSuites: null, VerifyOutgoing: false, VerifyServerHostname: false, UseAutoCert: false,
    });
  });
});

describe('HTTPS with verify_incoming', () => {
  let dev: DevAgent;
  let port: number;
  let ca: string;
  const read = (p: string) => import('node:fs').then((fs) => fs.readFileSync(p, 'utf8'));

  before(async () => {
    ({ dev, port } = await startHttps(`tls { https { ca_file = "${files.ca}" cert_file = "${files.cert}" key_file = "${files.key}" verify_incoming = true } }`));
    ca = await read(files.ca);
  });
  after(async () => {
    await dev?.stop();
  });

  test('a client without a certificate, or with one from another CA, is refused; a signed one is served', async () => {
    await assert.rejects(request(port, '/v1/status/leader', { ca }));
    await assert.rejects(request(port, '/v1/status/leader', { ca, cert: await read(files.rogueCert), key: await read(files.rogueKey) }));
    const ok = await request(port, '/v1/status/leader', { ca, cert: await read(files.clientCert), key: await read(files.clientKey) });
    assert.equal(ok.status, 200);
    // HTTP/2 needs the certificate too.
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca, cert: await read(files.clientCert), key: await read(files.clientKey) });
    assert.equal((await h2(session, 'GET', '/v1/status/leader')).status, 200);
    session.close();
  });

  test('proconsul kv put/get over https with -ca-file/-client-cert/-client-key, and with CONSUL_* variables', async () => {
    const cli = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      const io = memoryIO({ env });
      const code = await runCli(argv, io);
      return { code, out: io.out, err: io.err };
    };
    const flags = [`-http-addr=https://127.0.0.1:${port}`, `-ca-file=${files.ca}`, `-client-cert=${files.clientCert}`, `-client-key=${files.clientKey}`];
    assert.deepEqual(await cli(['kv', 'put', ...flags, 'cli/tls', 'secret']), { code: 0, out: 'Success! Data written to: cli/tls\n', err: '' });
    assert.deepEqual(await cli(['kv', 'get', ...flags, '-tls-server-name=server.dc1.consul', 'cli/tls']), { code: 0, out: 'secret\n', err: '' });
    const env = {
      CONSUL_HTTP_ADDR: `127.0.0.1:${port}`, CONSUL_HTTP_SSL: 'true', CONSUL_CACERT: files.ca,
      CONSUL_CLIENT_CERT: files.clientCert, CONSUL_CLIENT_KEY: files.clientKey, CONSUL_TLS_SERVER_NAME: 'localhost',
    };
    assert.deepEqual(await cli(['kv', 'get', 'cli/tls'], env), { code: 0, out: 'secret\n', err: '' });
    // Without the client certificate the agent refuses the connection.
    const refused = await cli(['kv', 'get', `-http-addr=https://127.0.0.1:${port}`, `-ca-file=${files.ca}`, 'cli/tls']);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^Error querying Consul agent: /);
  });

  test('the npm consul client presents a client certificate through its https agent', async () => {
    const agent = new https.Agent({ ca, cert: await read(files.clientCert), key: await read(files.clientKey) });
    const consul = new Consul({ host: '127.0.0.1', port, secure: true, agent });
    assert.equal(await consul.kv.set('npm/mtls', 'ok'), true);
    consul.destroy();
  });
});

test('http_max_conns_per_client applies to HTTPS: the excess connection gets a 429 over TLS', async () => {
  const { dev, port } = await startHttps(`tls { defaults { cert_file = "${files.cert}" key_file = "${files.key}" } }`, {
    limits: { kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, httpMaxConnsPerClient: 1 },
  });
  try {
    const ca = await import('node:fs').then((fs) => fs.readFileSync(files.ca, 'utf8'));
    const held = new https.Agent({ ca, keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await request(port, '/v1/status/leader', { ca, agent: held })).status, 200);
      const second = await request(port, '/v1/status/leader', { ca });
      assert.equal(second.status, 429);
      assert.equal(second.body, 'Your IP is issuing too many concurrent connections, please rate limit your calls\n');
    } finally {
      held.destroy();
    }
  } finally {
    await dev.stop();
  }
});

/** HPACK literal (never indexed) of a static-table name index and a value: enough for a hand-made HEADERS frame. */
const hpackLiteral = (nameIndex: number, value: string) => Buffer.concat([Buffer.from([0x10 | nameIndex, value.length]), Buffer.from(value)]);

/**
 * A raw TLS connection that negotiates h2, sends the client preface, an empty SETTINGS frame and a
 * HEADERS frame for `PUT path` (stream 1, no body), and collects every byte the server sends until
 * it closes.
 */
function rawH2Put(port: number, ca: string, path: string): Promise<{ alpn: string | false; received: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let alpn: string | false = false;
    const sock = tls.connect({ host: '127.0.0.1', port, ca, ALPNProtocols: ['h2'] }, () => {
      alpn = sock.alpnProtocol ?? false;
      const block = Buffer.concat([Buffer.from([0x87]), hpackLiteral(2, 'PUT'), hpackLiteral(1, '127.0.0.1'), hpackLiteral(4, path)]);
      const headers = Buffer.concat([Buffer.from([0, 0, block.length, 0x1, 0x5, 0, 0, 0, 1]), block]);
      sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]), headers]));
    });
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => {});
    sock.on('close', () => resolve({ alpn, received: Buffer.concat(chunks) }));
    setTimeout(() => {
      sock.destroy();
      reject(new Error(`the connection stayed open; received ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
    }, 10_000).unref();
  });
}

test('http_max_conns_per_client on HTTPS with HTTP/2: the third h2 connection gets only the raw 429 and is closed, no session or stream served', { timeout: 30_000 }, async () => {
  const { dev, port } = await startHttps(`tls { defaults { cert_file = "${files.cert}" key_file = "${files.key}" } }`, {
    limits: { kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, httpMaxConnsPerClient: 2 },
  });
  const ca = (await import('node:fs')).readFileSync(files.ca, 'utf8');
  const held: http2.ClientHttp2Session[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const s = http2.connect(`https://127.0.0.1:${port}`, { ca });
      s.on('error', () => {});
      held.push(s);
      assert.equal((await h2(s, 'GET', '/v1/status/leader')).status, 200);
    }
    // Consul (go-connlimit in the ConnState hook) finishes the handshake, writes the 429 over TLS
    // and closes: the h2 client's preface and request are never read by an HTTP/2 server.
    const over = await rawH2Put(port, ca, '/v1/kv/h2/over-limit');
    assert.equal(over.alpn, 'h2');
    assert.equal(over.received.toString('latin1'), 'HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nContent-Length: 81\r\nConnection: close\r\n\r\n'
      + 'Your IP is issuing too many concurrent connections, please rate limit your calls\n');
    // An h2 client library sees the connection fail, and its request is not served either.
    const third = http2.connect(`https://127.0.0.1:${port}`, { ca });
    third.on('error', () => {});
    await assert.rejects(h2(third, 'PUT', '/v1/kv/h2/over-limit-2', 'x'));
    third.destroy();
    for (const key of ['over-limit', 'over-limit-2']) assert.equal((await h2(held[0], 'GET', `/v1/kv/h2/${key}`)).status, 404, key);
    // A slot freed by a closed connection is usable again.
    held.pop()!.close();
    await until('a freed slot', 5_000, async () => {
      const s = http2.connect(`https://127.0.0.1:${port}`, { ca });
      s.on('error', () => {});
      try {
        return (await h2(s, 'GET', '/v1/status/leader').catch(() => undefined))?.status === 200;
      } finally {
        s.destroy();
      }
    });
  } finally {
    for (const s of held) s.destroy();
    await dev.stop();
  }
});

test('handlers see HTTP/1-style headers over h2: no pseudo-headers, :authority as host (what forwarding copies)', { timeout: 30_000 }, async () => {
  const { HttpServer, Router } = await import('../src/http/index.ts');
  const { silentLogger } = await import('../src/log.ts');
  const { serverTlsOptions, loadTls } = await import('../src/agent/tls.ts');
  let aborted!: () => void;
  let entered!: () => void;
  const abortSeen = new Promise<void>((resolve) => (aborted = resolve));
  const blockEntered = new Promise<void>((resolve) => (entered = resolve));
  const router = new Router()
    .route('GET', '/echo', async (req) => ({ body: { headers: req.headers, remote: req.remoteAddr } }))
    .route('GET', '/block', async (req) => {
      entered();
      await new Promise<void>((resolve) => req.signal.addEventListener('abort', () => resolve(), { once: true }));
      aborted();
      return { body: 'late' };
    });
  const server = new HttpServer({ router, logger: silentLogger(), config: { defaultAclPolicy: 'allow', responseHeaders: {} } });
  const tls = loadTls((await tlsConfig(`tls { defaults { cert_file = "${files.cert}" key_file = "${files.key}" } }`))!);
  const port = await freePort();
  await server.listen([{ kind: 'tcp', host: '127.0.0.1', port }], { tls: serverTlsOptions(tls.https), handshakeTimeout: 5_000 });
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: await import('node:fs').then((fs) => fs.readFileSync(files.ca)) });
  try {
    const echo = JSON.parse((await h2(session, 'GET', '/echo')).body) as { headers: Record<string, string>; remote: string };
    assert.deepEqual(Object.keys(echo.headers).filter((k) => k.startsWith(':')), []);
    assert.equal(echo.headers.host, `127.0.0.1:${port}`);
    assert.equal(echo.remote, '127.0.0.1');
    // A client that resets its stream aborts the request's signal, as a closed HTTP/1.1 socket does.
    const blocked = session.request({ ':path': '/block' });
    blocked.on('error', () => {});
    await blockEntered;
    blocked.close(http2.constants.NGHTTP2_CANCEL);
    await abortSeen;
  } finally {
    session.close();
    await server.close();
  }
});

describe('TLS configuration errors', () => {
  test('start-up refuses verify_incoming without a CA, and unreadable key pairs, in Consul words', async () => {
    await assert.rejects(startHttps(`tls { https { cert_file = "${files.cert}" key_file = "${files.key}" verify_incoming = true } }`),
      { message: 'VerifyIncoming set but no CA certificates were provided' });
    await assert.rejects(startHttps(`tls { https { ca_file = "${files.ca}" verify_incoming = true } }`),
      { message: 'VerifyIncoming requires either a Cert and Key pair in the configuration file, or auto_encrypt/auto_config be enabled' });
    await assert.rejects(startHttps(`tls { defaults { cert_file = "${join(dir, 'missing.pem')}" key_file = "${files.key}" } }`),
      { message: `Failed to load cert/key pair: open ${join(dir, 'missing.pem')}: no such file or directory` });
    await assert.rejects(startHttps(`tls { defaults { ca_path = "${join(dir, 'no-such-dir')}" } }`),
      { message: `lstat ${join(dir, 'no-such-dir')}: no such file or directory` });
    await assert.rejects(startHttps(`tls { defaults { ca_file = "${files.key}" } }`), (e: Error) => e.message.startsWith('failed to parse PEM -----BEGIN PRIVATE KEY-----'));
  });

  test('the agent command prints Consul\'s stanza errors and exits 1', () => {
    const bin = join(import.meta.dirname, '..', 'bin', 'proconsul.js');
    const run = spawnSync(process.execPath, [bin, 'agent', '-dev', '-hcl', 'tls { https { verify_server_hostname = true } }'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /verify_server_hostname is only valid in the tls.internal_rpc stanza/);
    const bad = spawnSync(process.execPath, [bin, 'validate', file('bad.hcl', `bind_addr = "127.0.0.1"\ndata_dir = "${dir}"\ntls { defaults { tls_min_version = "ssl3" } }`)], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /tls\.defaults\.tls_min_version: invalid TLS version: no matching TLS version found for ssl3/);
  });
});

test('a reload reads the TLS files again: new HTTPS connections get the renewed certificate, a bad file keeps the old one', { timeout: 30_000 }, async () => {
  const { X509Certificate } = await import('node:crypto');
  const ca = await testCA('Reload CA');
  const first = await ca.issue('server.dc1.consul', 'server');
  const renewed = await ca.issue('server.dc1.consul', 'server');
  const cert = file('reload.pem', first.cert);
  const key = file('reload-key.pem', first.key);
  const { dev, port } = await startHttps(`tls { defaults { cert_file = "${cert}" key_file = "${key}" } }`);
  const presented = () => new Promise<string>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/v1/status/leader', agent: false, ca: ca.cert }, (res) => {
      resolve((res.socket as TLSSocket).getPeerCertificate().serialNumber);
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
  try {
    assert.equal(await presented(), new X509Certificate(first.cert).serialNumber);
    file('reload.pem', renewed.cert);
    file('reload-key.pem', renewed.key);
    assert.equal(await presented(), new X509Certificate(first.cert).serialNumber, 'nothing changes before the reload');
    assert.equal((await dev.agent.http.handle({ method: 'PUT', url: '/v1/agent/reload' })).status, 200);
    assert.equal(await presented(), new X509Certificate(renewed.cert).serialNumber);
    file('reload.pem', 'garbage');
    const bad = await dev.agent.http.handle({ method: 'PUT', url: '/v1/agent/reload' });
    assert.equal(bad.status, 500);
    assert.match(bad.body.toString(), /^Failed reloading tls configuration: Failed to load cert\/key pair: /);
    assert.equal(await presented(), new X509Certificate(renewed.cert).serialNumber);
  } finally {
    await dev.stop();
  }
});
