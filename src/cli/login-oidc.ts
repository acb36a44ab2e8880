// The browser half of `proconsul login -type=oidc`: a one-shot HTTP listener for the provider's
// redirect (default 127.0.0.1:8550, path /oidc/callback), the auth URL printed and opened, then
// the code and state handed to /v1/acl/oidc/callback together with this run's client nonce.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ACLToken } from '../acl/types.ts';
import type { ConsulClient } from '../api/index.ts';
import type { CliIO } from './io.ts';
import { nodeHttp } from '../node-http.ts';

/** How long the command waits for the browser to come back from the provider. */
const CALLBACK_TIMEOUT_MS = 5 * 60_000;
const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

/** What an OIDC login needs from the command line. */
export interface OidcLoginOptions {
  method: string;
  /** `host:port` to listen on for the redirect. */
  listenAddr: string;
  meta: Record<string, string>;
}

function hostPort(addr: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(addr);
  if (!m) throw new Error(`Invalid -oidc-callback-listen-addr ${JSON.stringify(addr)}: expected host:port`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function page(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  const safe = text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  res.end(`<!doctype html><title>Proconsul login</title><p>${safe}</p>\n`);
}

/** Runs one OIDC login and answers the token the callback created. */
export async function oidcLogin(client: ConsulClient, io: CliIO, o: OidcLoginOptions): Promise<ACLToken> {
  const { host, port } = hostPort(o.listenAddr);
  const server = nodeHttp.createServer();
  try {
    await listen(server, host, port);
  } catch (err) {
    throw new Error(`Error starting callback listener on ${o.listenAddr}: ${(err as Error).message}`);
  }
  try {
    const bound = (server.address() as AddressInfo).port;
    // Providers and Consul's docs register http://localhost:8550/oidc/callback; loopback ports may differ.
    const redirectHost = LOOPBACK.includes(host) ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    const redirectURI = `http://${redirectHost}:${bound}/oidc/callback`;
    const clientNonce = randomBytes(20).toString('hex');
    const authURL = await client.acl.oidcAuthURL({ AuthMethod: o.method, RedirectURI: redirectURI, ClientNonce: clientNonce, Meta: o.meta });
    const done = waitForCallback(server, client, o.method, clientNonce);
    io.stdout(`\nComplete the login via your OIDC provider. Launching browser to:\n\n    ${authURL}\n\n`);
    io.openBrowser?.(authURL);
    return await done;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

function waitForCallback(server: Server, client: ConsulClient, method: string, clientNonce: string): Promise<ACLToken> {
  return new Promise<ACLToken>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => finish(new Error('Timed out waiting for response from provider')), CALLBACK_TIMEOUT_MS);
    const finish = (err: Error | null, token?: ACLToken) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(token!);
    };
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const u = new URL(req.url ?? '/', 'http://localhost');
      if (u.pathname !== '/oidc/callback') return page(res, 404, 'Not found.');
      if (settled) return page(res, 409, 'This login has already completed.');
      const q = u.searchParams;
      if (q.get('error')) {
        const why = `${q.get('error')}${q.get('error_description') ? `: ${q.get('error_description')}` : ''}`;
        page(res, 400, `Login failed: ${why}`);
        return finish(new Error(`Provider login failed: ${why}`));
      }
      const params = { AuthMethod: method, State: q.get('state') ?? '', Code: q.get('code') ?? '', ClientNonce: clientNonce };
      client.acl.oidcCallback(params).then((r) => {
        page(res, 200, 'Signed in via your OIDC provider. You can close this window and return to the terminal.');
        finish(null, r.data);
      }, (err: Error) => {
        page(res, 400, `Login failed: ${err.message}`);
        finish(err);
      });
    });
  });
}
