// A tiny OpenID provider on 127.0.0.1 for auth-method tests: discovery document, JWKS, an
// authorize endpoint that redirects straight back with a code (no login page), a token endpoint
// (client_secret_basic, PKCE S256) issuing RS256 ID tokens, and userinfo; over https when given a
// certificate. Knobs let a test make the next ID token carry a wrong nonce or audience.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

/** A running provider. */
export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Signs any claims with the provider's key (for JWT-method tests). */
  sign(claims: Record<string, unknown>): Promise<string>;
  /** Claims added to (or overriding) the next ID token only. */
  next: Record<string, unknown>;
  /** Claims of every ID token besides iss/aud/exp/iat/nonce. */
  user: Record<string, unknown>;
  /** Token endpoint requests seen (for PKCE/auth assertions). */
  tokenRequests: URLSearchParams[];
  close(): Promise<void>;
}

interface Grant {
  nonce: string;
  redirectURI: string;
  challenge: string;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the provider on an ephemeral port. */
export async function startProvider(opts: { clientId?: string; clientSecret?: string; tls?: { cert: string; key: string } } = {}): Promise<TestProvider> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const grants = new Map<string, Grant>();
  const server: Server = opts.tls ? createTlsServer(opts.tls) : createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const op: TestProvider = {
    issuer, clientId: opts.clientId ?? 'consul-client', clientSecret: opts.clientSecret ?? 's3cret', next: {}, user: {}, tokenRequests: [],
    sign: (claims) => signWith(privateKey, claims),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void route(op, grants, jwk, privateKey, req, res).catch((err: Error) => send(res, 500, { error: 'server_error', error_description: err.message }));
  });
  return op;
}

function signWith(key: CryptoKey, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' }).sign(key);
}

async function route(op: TestProvider, grants: Map<string, Grant>, jwk: object, key: CryptoKey, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', op.issuer);
  if (url.pathname === '/.well-known/openid-configuration') {
    return send(res, 200, {
      issuer: op.issuer, authorization_endpoint: `${op.issuer}/authorize`, token_endpoint: `${op.issuer}/token`,
      jwks_uri: `${op.issuer}/jwks`, userinfo_endpoint: `${op.issuer}/userinfo`, response_types_supported: ['code'],
      subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic'], code_challenge_methods_supported: ['S256'],
    });
  }
  if (url.pathname === '/jwks') return send(res, 200, { keys: [jwk] });
  if (url.pathname === '/authorize') return authorize(op, grants, url, res);
  if (url.pathname === '/token' && req.method === 'POST') return token(op, grants, key, req, res);
  if (url.pathname === '/userinfo') {
    if (req.headers.authorization !== 'Bearer at-for-alice') return send(res, 401, { error: 'invalid_token' });
    return send(res, 200, { sub: op.user.sub ?? 'alice', team: 'platform' });
  }
  send(res, 404, { error: 'not_found' });
}

function authorize(op: TestProvider, grants: Map<string, Grant>, url: URL, res: ServerResponse): void {
  const q = url.searchParams;
  if (q.get('client_id') !== op.clientId || q.get('response_type') !== 'code') return send(res, 400, { error: 'invalid_request' });
  const code = randomBytes(12).toString('hex');
  grants.set(code, { nonce: q.get('nonce') ?? '', redirectURI: q.get('redirect_uri') ?? '', challenge: q.get('code_challenge') ?? '' });
  const back = new URL(q.get('redirect_uri') ?? '');
  back.searchParams.set('code', code);
  back.searchParams.set('state', q.get('state') ?? '');
  res.writeHead(302, { location: back.href });
  res.end();
}

async function token(op: TestProvider, grants: Map<string, Grant>, key: CryptoKey, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = new URLSearchParams(await readBody(req));
  op.tokenRequests.push(body);
  // client_secret_basic form-urlencodes id and secret before base64 (RFC 6749 §2.3.1).
  const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8').split(':')
    .map((part) => decodeURIComponent(part.replaceAll('+', ' ')));
  if (id !== op.clientId || secret !== op.clientSecret) return send(res, 401, { error: 'invalid_client' });
  const grant = grants.get(body.get('code') ?? '');
  grants.delete(body.get('code') ?? '');
  if (!grant || grant.redirectURI !== body.get('redirect_uri')) return send(res, 400, { error: 'invalid_grant' });
  const verifier = body.get('code_verifier') ?? '';
  if (grant.challenge && createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) {
    return send(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
  }
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: op.issuer, aud: op.clientId, sub: 'alice', iat: now, exp: now + 300, nonce: grant.nonce, ...op.user, ...op.next };
  op.next = {};
  send(res, 200, { access_token: 'at-for-alice', token_type: 'Bearer', expires_in: 300, id_token: await signWith(key, claims) });
}
