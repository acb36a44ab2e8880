// limits.https_handshake_timeout on the HTTPS listener: a client whose handshake has not completed
// that long after accept is cut (silent or trickling bytes: the deadline is absolute), but one that answered in time is not cut because the server's own
// event loop was busy past the deadline (thousands of HTTP/2 streams opening at once did that to
// whole sessions under load). The client runs in a child process so that it can answer while the
// server's loop is blocked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { HttpServer, Router } from '../src/http/index.ts';
import { silentLogger } from '../src/log.ts';
import { freePort } from './support/ports.ts';
import { testCA } from './support/tls-cert.ts';
import { until } from './support/wait.ts';

const TIMEOUT_MS = 300;

/**
 * Connects over TCP, prints `tcp`; on a line on stdin starts its TLS handshake and prints `sent`;
 * then `answered` when its GET /ping over TLS got a 200, or `cut` when the server closed first
 * (a TLS 1.3 client counts its handshake done before the server has read its Finished).
 */
const CLIENT = `
const net = require('node:net'), tls = require('node:tls');
const [port, ca] = [Number(process.argv[1]), process.env.CA];
const raw = net.connect(port, '127.0.0.1', () => process.stdout.write('tcp\\n'));
process.stdin.once('data', () => {
  let got = '';
  const s = tls.connect({ socket: raw, ca, servername: 'localhost' }, () => {
    s.write('GET /ping HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n');
  });
  s.setEncoding('utf8').on('data', (d) => { got += d; });
  s.on('error', (e) => { process.stdout.write('cut ' + e.code + '\\n'); process.exit(0); });
  s.on('close', () => { process.stdout.write(got.startsWith('HTTP/1.1 200') ? 'answered\\n' : 'cut\\n'); process.exit(0); });
  process.stdout.write('sent\\n');
});
`;

async function httpsServer(): Promise<{ server: HttpServer; port: number; ca: string }> {
  const ca = await testCA();
  const leaf = await ca.issue('server.dc1.consul', 'server');
  const server = new HttpServer({
    router: new Router().route('GET', '/ping', async () => ({ body: 'pong' })),
    logger: silentLogger(), config: { defaultAclPolicy: 'allow', responseHeaders: {} },
  });
  const port = await freePort();
  await server.listen([{ kind: 'tcp', host: '127.0.0.1', port }], { tls: { cert: leaf.cert, key: leaf.key }, handshakeTimeout: TIMEOUT_MS });
  return { server, port, ca: ca.cert };
}

const tcpSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

test('a client that sent its handshake in time is not cut because the server was busy past https_handshake_timeout', { timeout: 30_000 }, async () => {
  const { server, port, ca } = await httpsServer();
  const child = spawn(process.execPath, ['-e', CLIENT, String(port)], { env: { ...process.env, CA: ca }, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!d.includes('sent')) return;
      // Blocks this process's event loop for three times the deadline in an I/O callback (the
      // poll phase, where a burst of HTTP/2 streams keeps it), while the client's handshake
      // records wait unread; the timers phase runs next, before the poll phase reads them.
      const end = performance.now() + 3 * TIMEOUT_MS;
      while (performance.now() < end) { /* busy */ }
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const before = tcpSockets();
    await until('the client connected', 10_000, async () => out.includes('tcp'));
    // The server accepted it (its deadline runs from here).
    await until('the server accepted', 10_000, async () => tcpSockets() > before);
    child.stdin.write('go\n');
    await exited;
    assert.equal(out.trim().split('\n').pop(), 'answered');
  } finally {
    child.kill();
    await server.close();
  }
});

test('a client whose handshake waited unread while the server was busy past the deadline from accept gets one more period', { timeout: 30_000 }, async () => {
  const { server, port, ca } = await httpsServer();
  const child = spawn(process.execPath, ['-e', CLIENT, String(port)], { env: { ...process.env, CA: ca }, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const before = tcpSockets();
    await until('the client connected', 10_000, async () => out.includes('tcp'));
    await until('the server accepted', 10_000, async () => tcpSockets() > before);
    // The client sends its ClientHello while this loop is blocked past the absolute deadline: the
    // server reads it only after the deadline, so the client could not have finished in time.
    child.stdin.write('go\n');
    const end = performance.now() + 3 * TIMEOUT_MS;
    while (performance.now() < end) { /* busy */ }
    await exited;
    assert.equal(out.trim().split('\n').pop(), 'answered');
  } finally {
    child.kill();
    await server.close();
  }
});

test('a client silent for https_handshake_timeout before its handshake is cut', { timeout: 30_000 }, async () => {
  const { server, port } = await httpsServer();
  const sock = net.connect(port, '127.0.0.1');
  try {
    sock.on('error', () => {});
    await new Promise((resolve) => sock.once('close', resolve));
  } finally {
    sock.destroy();
    await server.close();
  }
});

test('a client trickling its handshake a byte at a time is cut at the deadline from accept, not kept open by each byte', { timeout: 30_000 }, async () => {
  const { server, port } = await httpsServer();
  const sock = net.connect(port, '127.0.0.1');
  const BYTES = 40; // one every 100 ms: four seconds, many deadlines of TIMEOUT_MS
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    sock.on('error', () => {});
    sock.once('connect', () => {
      // A TLS handshake record header announcing 512 bytes: the server waits for the rest.
      sock.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
      timer = setInterval(() => {
        if (sent === BYTES) return clearInterval(timer);
        sock.write(Buffer.from([0]));
        sent++;
      }, 100);
    });
    await new Promise((resolve) => sock.once('close', resolve));
    assert.ok(sent < BYTES, `cut while still trickling (after ${sent} of ${BYTES} bytes)`);
  } finally {
    clearInterval(timer);
    sock.destroy();
    await server.close();
  }
});
