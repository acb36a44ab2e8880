// GET /v1/internal/ui/metrics-proxy/*: the read-only proxy from the UI to one metrics backend
// (Consul's UIMetricsProxy): only with the UI on and ui_config.metrics_proxy.base_url set, for
// tokens that may read every node and service, to allowlisted paths only when a list is given.
// The token is taken from headers only and the header carrying it is not forwarded; configured
// headers are added.
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { nodeHttp, nodeHttps } from '../../node-http.ts';
import { BadRequestError, NotFoundError } from '../../errors.ts';
import { authorize } from '../../endpoint/acl-enforce.ts';
import type { Logger } from '../../log.ts';
import type { HttpResult } from '../router.ts';
import type { HttpRequest, RequestConfig } from '../request.ts';
import type { UiMetricsProxyHeader } from '../../agent/config/ui-config.ts';

/** What the proxy needs. */
export interface MetricsProxyDeps {
  uiServed: boolean;
  /** ui_config.metrics_proxy now (a reload may change it). */
  proxy: () => { baseUrl: string; addHeaders: UiMetricsProxyHeader[]; pathAllowlist: string[] };
  cfg: RequestConfig;
  logger: Logger;
}

const PREFIX = '/v1/internal/ui/metrics-proxy';
// Hop-by-hop headers a reverse proxy drops (Go's httputil.ReverseProxy).
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/** A bearer token of an Authorization header as Consul splits it (`<scheme> <value>`, one space), or ''. */
function bearer(auth: unknown): string {
  if (typeof auth !== 'string') return '';
  const parts = auth.split(' ');
  return parts.length === 2 && parts[0].toLowerCase() === 'bearer' ? parts[1].trim() : '';
}

/** The token from X-Consul-Token or a bearer Authorization header only: other backends use ?token for themselves. */
function headerToken(req: HttpRequest, cfg: RequestConfig): string {
  const h = req.headers['x-consul-token'];
  if (typeof h === 'string' && h) return h;
  return bearer(req.headers.authorization) || (cfg.acl?.defaultToken() ?? cfg.defaultToken);
}

/**
 * The one header that carried the token, never forwarded (Consul's clearTokenFromHeaders):
 * X-Consul-Token when given, else a bearer Authorization. Any other Authorization (the backend's
 * own credentials) goes through.
 */
function tokenHeader(req: HttpRequest): string | null {
  const h = req.headers['x-consul-token'];
  if (typeof h === 'string' && h) return 'x-consul-token';
  return bearer(req.headers.authorization) ? 'authorization' : null;
}

/** Go's path.Clean for the target path. */
function clean(p: string): string {
  const n = path.posix.normalize(p || '/');
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

// Go's url.Parse refuses ASCII control characters; WHATWG parsing would silently drop tabs and
// newlines instead (`.\n.` becoming a `..` segment).
const CONTROL = /[\x00-\x1f\x7f]/;
// What Go's URL.EscapedPath leaves as it is: unreserved characters and `$&+,/:;=@`.
const PATH_SAFE = /^[A-Za-z0-9\-_.~$&+,/:;=@]$/;

/** Go's path escaping of a decoded path: every other byte as %XX (a `\` too: WHATWG parsing would take it for `/`). */
function escapePath(p: string): string {
  let out = '';
  for (const ch of p) {
    if (PATH_SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The backend URL for a decoded sub path (Consul: url.Parse(BaseURL + subPath), path.Clean): its
 * fragment and query cut off as Go's parser does, the path joined to the base path's and cleaned,
 * then encoded again, so no character of the request becomes a separator or escape of its own.
 * `path` is the decoded, cleaned target path the allowlist and the base-path check compare.
 */
function targetOf(baseUrl: string, sub: string): { url: URL; path: string; basePath: string } | null {
  if (CONTROL.test(baseUrl + sub)) return null;
  let s = sub;
  const hash = s.indexOf('#');
  if (hash >= 0) s = s.slice(0, hash);
  const q = s.indexOf('?');
  if (q >= 0) s = s.slice(0, q);
  let url: URL;
  let basePath: string;
  try {
    url = new URL(baseUrl);
    basePath = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  const p = clean(basePath + s);
  url.pathname = escapePath(p);
  url.search = '';
  url.hash = '';
  return { url, path: p, basePath };
}

/** Whether `p` is the base path or under it, segment-wise. */
function under(p: string, base: string): boolean {
  const b = clean(base);
  return b === '/' || p === b || p.startsWith(`${b}/`);
}

function forward(target: URL, req: HttpRequest, add: UiMetricsProxyHeader[]): Promise<HttpResult> {
  const headers: Record<string, string | string[]> = {};
  const token = tokenHeader(req);
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROPPED.has(k) && k !== token) headers[k] = v;
  // Go's ReverseProxy appends the client to X-Forwarded-For.
  if (req.remoteAddr) {
    const prior = req.headers['x-forwarded-for'];
    const list = Array.isArray(prior) ? prior.join(', ') : prior;
    headers['x-forwarded-for'] = list ? `${list}, ${req.remoteAddr}` : req.remoteAddr;
  }
  let host = target.host;
  for (const h of add) {
    if (h.name.toLowerCase() === 'host') host = h.value;
    else headers[h.name] = h.value;
  }
  headers.host = host;
  const lib = target.protocol === 'https:' ? nodeHttps : nodeHttp;
  return new Promise((resolve) => {
    // The backend request ends with the client's (Go's ReverseProxy uses the request's context).
    const out = lib.request(target, { method: 'GET', headers, signal: req.signal }, (res) => {
      const pass: Record<string, string> = {};
      // Content-Type goes as the answer's own (once); Content-Length as the backend's, as Go's proxy keeps it.
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !DROPPED.has(k) && k !== 'content-type') pass[k] = Array.isArray(v) ? v.join(', ') : v;
      resolve({
        status: res.statusCode ?? 502, contentType: res.headers['content-type'] ?? 'application/octet-stream', headers: pass,
        stream: (write, signal, drained) => relay(res, write, signal, drained),
      });
    });
    // Go's ReverseProxy answers a backend it cannot reach with a bare 502.
    out.on('error', () => resolve({ status: 502, raw: '' }));
    out.end();
  });
}

/**
 * The backend's body passed on as it arrives, paused while the client's connection is full. A
 * backend failing midway fails the answer (the connection is cut, as Go's ReverseProxy aborts).
 */
function relay(
  res: IncomingMessage, write: (c: Buffer) => unknown, signal: AbortSignal, drained?: () => Promise<void>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      res.destroy();
      resolve();
    };
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    const finish = (err?: Error) => {
      signal.removeEventListener('abort', stop);
      if (err) reject(err);
      else resolve();
    };
    res.on('data', (c: Buffer) => {
      if (write(c) === false && drained) {
        res.pause();
        void drained().then(() => res.resume());
      }
    });
    res.on('end', () => finish());
    res.on('error', (err) => finish(err));
    res.on('close', () => {
      if (!res.complete) finish(new Error('metrics backend closed its answer early'));
    });
  });
}

/** The metrics proxy handler. */
export function metricsProxyHandler(d: MetricsProxyDeps) {
  const log = d.logger.child({ '@module': 'agent.ui_metrics_proxy' });
  return async (req: HttpRequest): Promise<HttpResult> => {
    if (!d.uiServed) throw new NotFoundError('UI is not enabled');
    const { baseUrl, pathAllowlist, addHeaders } = d.proxy();
    if (baseUrl === '') throw new NotFoundError('Metrics proxy is not enabled');
    const token = headerToken(req, d.cfg);
    const authz = d.cfg.acl?.resolve(token);
    authorize(authz, 'nodeReadAll');
    authorize(authz, 'serviceReadAll');
    const sub = req.path.slice(PREFIX.length);
    const t = targetOf(baseUrl, sub);
    if (!t) {
      log.error({ base_url: baseUrl, path: sub }, "couldn't parse target URL");
      throw new BadRequestError('Invalid path.');
    }
    const target = t.url;
    if (pathAllowlist.length > 0 && !pathAllowlist.includes(t.path)) {
      log.error({ base_url: baseUrl, path: sub, target_url: target.href, path_allowlist: pathAllowlist }, 'target URL path is not allowed');
      return { status: 403 };
    }
    const q = req.url?.indexOf('?') ?? -1;
    target.search = q >= 0 ? req.url!.slice(q) : '';
    if (!under(t.path, t.basePath)) {
      log.error({ base_url: baseUrl, path: sub, target_url: target.href }, 'target URL escaped from base path');
      throw new BadRequestError('Invalid path.');
    }
    log.debug({ to: target.href }, 'proxying request');
    return forward(target, req, addHeaders);
  };
}
