// HTTP to identity providers (JWKS, OIDC discovery, token and userinfo endpoints) as a fetch
// function, trusting only a configured PEM CA (Consul's JWKSCACert / OIDCDiscoveryCACert) when
// one is set; both jose and openid-client take it through their `customFetch` option. What was
// discovered is cached per configuration.

import { nodeHttp, nodeHttps } from '../node-http.ts';

/** The fetch shape jose and openid-client call: a URL and plain fetch options. */
export type IdpFetch = (url: string, init: { method?: string; headers?: Headers | Record<string, string>; body?: unknown; signal?: AbortSignal | null }) => Promise<Response>;

/** Bodies openid-client sends (form posts) as bytes for node:https. */
function bodyBytes(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new Error('unsupported request body for an identity provider call');
}

/** A fetch that trusts only `caPem` for https; without a CA it is the global fetch (system roots). */
export function idpFetch(caPem?: string): IdpFetch {
  if (!caPem) return (url, init) => fetch(url, init as RequestInit);
  return (url, init) => new Promise<Response>((resolve, reject) => {
    const u = new URL(url);
    const headers = Object.fromEntries(new Headers(init.headers ?? {}).entries());
    const body = bodyBytes(init.body);
    if (init.body instanceof URLSearchParams && !headers['content-type']) headers['content-type'] = 'application/x-www-form-urlencoded';
    const send = u.protocol === 'https:' ? nodeHttps.request : nodeHttp.request;
    const req = send(u, { method: init.method ?? 'GET', headers, ca: caPem, signal: init.signal ?? undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 500;
        const noBody = status === 204 || status === 304;
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: h }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * What was discovered from identity providers (key sets, OIDC clients), one promise per
 * configuration key, owned by the login path (no module state). A failed discovery is dropped
 * so the next login retries; old configurations linger after a method update, so a small bound
 * clears the lot.
 */
export class IdpCache<T> {
  readonly #cache = new Map<string, Promise<T>>();

  /** The cached promise for `key`, else the one `discover` starts. */
  get(key: string, discover: () => Promise<T>): Promise<T> {
    let p = this.#cache.get(key);
    if (!p) {
      if (this.#cache.size >= 64) this.#cache.clear();
      p = discover();
      p.catch(() => this.#cache.delete(key));
      this.#cache.set(key, p);
    }
    return p;
  }
}
