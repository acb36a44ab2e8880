// A real OpenID provider for auth-method tests: the npm `oidc-provider` on 127.0.0.1 with its
// own login and consent interaction pages (devInteractions off), a password check against the
// given accounts, an in-memory adapter and generated signing keys.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Adapter, type AdapterPayload, type ClientMetadata, type ErrorOut, type KoaContextWithOIDC } from 'oidc-provider';

/** A person the provider can sign in: a password and the claims it releases. */
export interface TestAccount {
  password: string;
  claims: Record<string, unknown>;
}

/** A running provider. */
export interface RealProvider {
  issuer: string;
  provider: Provider;
  close(): Promise<void>;
}

// The memory store the provider keeps its sessions, grants and codes in (its own would warn).
function memoryAdapter(): new (name: string) => Adapter {
  const items = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  return class {
    readonly #name: string;
    constructor(name: string) { this.#name = name; }
    #key(id: string) { return `${this.#name}:${id}`; }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      items.set(this.#key(id), { payload, expiresAt: Date.now() + expiresIn * 1000 });
    }
    async find(id: string) {
      const it = items.get(this.#key(id));
      return it && it.expiresAt > Date.now() ? it.payload : undefined;
    }
    async findByUid(uid: string) {
      return [...items.entries()].find(([k, v]) => k.startsWith(`${this.#name}:`) && v.payload.uid === uid)?.[1].payload;
    }
    async findByUserCode(code: string) {
      return [...items.entries()].find(([k, v]) => k.startsWith(`${this.#name}:`) && v.payload.userCode === code)?.[1].payload;
    }
    async consume(id: string) {
      const it = items.get(this.#key(id));
      if (it) it.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) { items.delete(this.#key(id)); }
    async revokeByGrantId(grantId: string) {
      for (const [k, v] of items) if (v.payload.grantId === grantId) items.delete(k);
    }
  };
}

function form(res: ServerResponse, action: string, title: string, fields: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><title>${title}</title><form method="post" action="${action}">${fields}<button>${title}</button></form>`);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// The interaction pages a real deployment would style: GET shows the prompt, POST answers it.
async function interaction(op: Provider, accounts: Record<string, TestAccount>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await op.interactionDetails(req, res);
  const base = `/interaction/${details.uid}`;
  if (req.method === 'GET') {
    if (details.prompt.name === 'login') return form(res, `${base}/login`, 'Sign in', '<input name="login"><input name="password" type="password">');
    return form(res, `${base}/confirm`, 'Allow', '');
  }
  const body = await readForm(req);
  if (req.url === `${base}/login`) {
    const account = accounts[body.get('login') ?? ''];
    if (!account || account.password !== body.get('password')) {
      return op.interactionFinished(req, res, { error: 'access_denied', error_description: 'invalid credentials' }, { mergeWithLastSubmission: false });
    }
    return op.interactionFinished(req, res, { login: { accountId: body.get('login')! } }, { mergeWithLastSubmission: false });
  }
  const grant = details.grantId ? (await op.Grant.find(details.grantId))! : new op.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  return op.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}

/** Starts `oidc-provider` on an ephemeral 127.0.0.1 port with the given clients and accounts. */
export async function startRealProvider(clients: ClientMetadata[], accounts: Record<string, TestAccount>): Promise<RealProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const op = new Provider(issuer, {
    adapter: memoryAdapter(), clients,
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['proconsul-test-cookie-key'] },
    // Explicit lifetimes (seconds), so the provider does not log that defaults were used.
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'], profile: ['name'] },
    features: { devInteractions: { enabled: false }, claimsParameter: { enabled: true } },
    interactions: { url: (_ctx: KoaContextWithOIDC, i: { uid: string }) => `/interaction/${i.uid}` },
    findAccount: (_ctx: KoaContextWithOIDC, id: string) => accounts[id]
      ? { accountId: id, claims: () => ({ sub: id, ...accounts[id].claims }) }
      : undefined,
    renderError: (ctx: KoaContextWithOIDC, out: ErrorOut) => { ctx.type = 'json'; ctx.body = out; },
  });
  const handle = op.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith('/interaction/')) return void handle(req, res);
    interaction(op, accounts, req, res).catch((err: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err.message);
    });
  });
  return {
    issuer, provider: op,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Where a stand-in browser ended: the last URL, its answer, and every request it made. */
export interface BrowseResult {
  url: URL;
  status: number;
  text: string;
  visited: string[];
}

function cookieHeader(jar: Map<string, string>): Record<string, string> {
  return jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
}

/**
 * A stand-in browser: follows redirects with a cookie jar and submits every form it is shown with
 * `fields` (login and password on a sign-in page); stops before fetching a URL `stopAt` accepts.
 */
export async function browse(start: string, fields: Record<string, string>, stopAt?: (u: URL) => boolean): Promise<BrowseResult> {
  const jar = new Map<string, string>();
  const visited: string[] = [];
  let url = new URL(start);
  let body: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    if (stopAt?.(url)) return { url, status: 0, text: '', visited };
    visited.push(`${body ? 'POST' : 'GET'} ${url.origin}${url.pathname}`);
    const headers = { ...cookieHeader(jar), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) };
    const res = await fetch(url, { method: body ? 'POST' : 'GET', body, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0];
      jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    const location = res.headers.get('location');
    body = undefined;
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url);
      continue;
    }
    const text = await res.text();
    const action = /<form method="post" action="([^"]+)"/.exec(text);
    if (res.status !== 200 || !action) return { url, status: res.status, text, visited };
    url = new URL(action[1], url);
    body = new URLSearchParams(fields);
  }
  throw new Error(`too many redirects: ${visited.join(' → ')}`);
}
