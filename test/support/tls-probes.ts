// What an attacker on the network gets from a managed server's ports: raw plaintext or TLS
// exchanges (everything the peer sends back until it closes), an https JSON request with or
// without a client certificate, and an etcd gRPC read through the etcd3 client.
import https from 'node:https';
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { Etcd3 } from 'etcd3';

/** What came back from one exchange: the bytes as latin1 text, and how the connection ended. */
export interface Exchange { text: string; error?: string }

function collect(s: net.Socket, payload: string, onReady: string, ms: number): Promise<Exchange> {
  return new Promise((resolve) => {
    let text = '';
    let error: string | undefined;
    const timer = setTimeout(() => s.destroy(), ms);
    s.on(onReady, () => s.write(payload));
    s.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    s.on('error', (err) => { error = err.message; });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, error });
    });
  });
}

/** Sends `payload` over plain TCP and reads until the peer closes (or `ms` pass). */
export function plaintextExchange(host: string, port: number, payload: string, ms = 3000): Promise<Exchange> {
  return collect(net.connect({ host, port }), payload, 'connect', ms);
}

/** The same over TLS with `options` (CA, maybe a client certificate); the handshake's error counts as the end. */
export function tlsExchange(host: string, port: number, payload: string, options: ConnectionOptions, ms = 3000): Promise<Exchange> {
  return collect(tls.connect({ host, port, ...options }), payload, 'secureConnect', ms);
}

/** An HTTP/1.1 request as raw text. */
export function httpRequest(method: string, urlPath: string, body = ''): string {
  return `${method} ${urlPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** POSTs JSON over https with `options`: status and body, or the error that ended it. */
export function httpsJson(url: string, body: unknown, options: ConnectionOptions): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = https.request(url, { method: body === undefined ? 'GET' : 'POST', agent: false, timeout: 5000, ...options }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', (err) => resolve({ error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Reads a key through the etcd3 gRPC client (plaintext for http:// URLs): the value, or the error. */
export async function etcdRead(url: string, credentials?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer }): Promise<{ ok: true } | { error: string }> {
  const client = new Etcd3({ hosts: [url], credentials, defaultCallOptions: () => ({ deadline: Date.now() + 3000 }) });
  try {
    await client.get('anything').string();
    return { ok: true };
  } catch (err) {
    return { error: String(err) };
  } finally {
    client.close();
  }
}

/** The etcd members through the etcd3 gRPC client (the HTTP gateway may be off limits). */
export async function etcdMembers(url: string, credentials: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer }): Promise<{ name: string; peerURLs: string[] }[]> {
  const client = new Etcd3({ hosts: [url], credentials, defaultCallOptions: () => ({ deadline: Date.now() + 3000 }) });
  try {
    return (await client.cluster.memberList({})).members.map((m) => ({ name: m.name, peerURLs: m.peerURLs }));
  } finally {
    client.close();
  }
}
