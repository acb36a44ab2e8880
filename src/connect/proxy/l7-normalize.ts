// What Envoy's HTTP connection manager does to a request on the public listener before any
// filter sees it, with the options Consul derives from the mesh config entry's
// HTTP.Incoming.RequestNormalization: path_with_escaped_slashes_action, normalize_path and
// merge_slashes (in Envoy's order), and headers_with_underscores_action; and the
// x-forwarded-client-cert the application gets (SanitizeXForwardedClientCert).
import type { MeshHttp } from './mesh-http.ts';
import { rbacHeaders } from './l7-rbac.ts';
import { requestPath, type L7Request } from './l7-route.ts';
import { appendXfcc, XFCC } from './l7-xfcc.ts';

/** Envoy's path_with_escaped_slashes_action (IMPLEMENTATION_SPECIFIC_DEFAULT is Envoy's KEEP_UNCHANGED). */
export type EscapedSlashesAction = 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';

/** Envoy's headers_with_underscores_action. */
export type UnderscoresAction = 'ALLOW' | 'REJECT_REQUEST' | 'DROP_HEADER';

/** The request normalization the public listener applies. */
export interface RequestNormalization {
  /** normalize_path: RFC 3986 dot segments, `\` as `/`, unreserved escapes decoded. */
  normalizePath: boolean;
  /** merge_slashes: repeated `/` merged into one. */
  mergeSlashes: boolean;
  escapedSlashes: EscapedSlashesAction;
  underscores: UnderscoresAction;
}

/** Consul's settings without a mesh entry: the path normalized, nothing else. */
export const DEFAULT_NORMALIZATION: RequestNormalization = {
  normalizePath: true, mergeSlashes: false, escapedSlashes: 'KEEP_UNCHANGED', underscores: 'ALLOW',
};

/**
 * What becomes of a request's path: it goes on as `path` (the query after it unchanged), or
 * Envoy answers itself (400 for reject; 307 to `path` plus the query for redirect).
 */
export type PathOutcome = { action: 'continue' | 'redirect'; path: string } | { action: 'reject' };

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * A path as Envoy's normalize_path leaves it: `\` read as `/`, dot segments (also
 * percent-encoded ones) removed, percent-encoded unreserved characters decoded and the other
 * escapes upper-cased. A path not starting with `/` (`*`) is left alone.
 */
export function canonicalPath(path: string): string {
  if (!path.startsWith('/')) return path;
  let p: string;
  try {
    p = new URL(`http://h${path.replace(/[?#]/g, (c) => (c === '?' ? '%3F' : '%23'))}`).pathname;
  } catch {
    return path;
  }
  return p.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => {
    const c = String.fromCharCode(parseInt(h, 16));
    return UNRESERVED.test(c) ? c : `%${h.toUpperCase()}`;
  });
}

/**
 * Envoy's maybeNormalizePath on the path part of a request target: escaped slashes (`%2F`, `%5C`)
 * handled first (a REJECT_REQUEST path that has one is refused), then normalize_path, then
 * merge_slashes; UNESCAPE_AND_REDIRECT redirects once the rest is done, if it unescaped any.
 */
export function normalizeRequestPath(path: string, n: RequestNormalization): PathOutcome {
  if (!path.startsWith('/')) return { action: 'continue', path };
  let p = path;
  let unescaped = false;
  if (n.escapedSlashes !== 'KEEP_UNCHANGED') {
    p = p.replace(/%(2F|5C)/gi, (_, h: string) => { unescaped = true; return h === '2F' || h === '2f' ? '/' : '\\'; });
    if (unescaped && n.escapedSlashes === 'REJECT_REQUEST') return { action: 'reject' };
  }
  if (n.normalizePath) p = canonicalPath(p);
  if (n.mergeSlashes) p = p.replace(/\/{2,}/g, '/');
  return { action: unescaped && n.escapedSlashes === 'UNESCAPE_AND_REDIRECT' ? 'redirect' : 'continue', path: p };
}

/** The header names of `rawHeaders` (name, value, …) that contain an underscore. */
export function underscoredNames(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].includes('_')) out.push(rawHeaders[i].toLowerCase());
  return out;
}

/** `rawHeaders` without the headers whose names contain an underscore (DROP_HEADER). */
export function withoutUnderscored(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (!rawHeaders[i].includes('_')) out.push(rawHeaders[i], rawHeaders[i + 1]);
  return out;
}

/** An answer Envoy's connection manager gives itself, before any filter (an empty body has no content-type). */
export interface LocalAnswer {
  status: number;
  text: string;
  headers?: Record<string, string>;
  /** The connection closes after it (an HTTP/1.1 codec error). */
  close?: boolean;
}

/** A request as the intentions see it and the target it goes on with, after Envoy's normalization. */
type Normalized = { l7: L7Request & { url: string }; dropped: string[] };

/**
 * A request as Envoy's connection manager hands it to the filters under the mesh entry's
 * settings: headers whose names have an underscore refused (400, the connection closed) or
 * dropped, a target that is not a path not found (404) and one with a fragment refused (400),
 * then the path normalized, or refused (400) or redirected (307) for its escaped
 * slashes. The intentions see, and the application gets, the normalized path; and they see
 * x-forwarded-client-cert as the application gets it with the caller's `xfcc` element (Envoy
 * mutates it before its filters run), not a header the caller wrote.
 */
export function normalizeRequest(
  method: string, url: string, rawHeaders: readonly string[], authority: string | undefined, mesh: MeshHttp, xfcc = '',
): Normalized | LocalAnswer {
  const n = mesh.normalization;
  let raw = rawHeaders;
  let dropped: string[] = [];
  if (n.underscores !== 'ALLOW') {
    dropped = underscoredNames(raw);
    if (dropped.length > 0 && n.underscores === 'REJECT_REQUEST') return { status: 400, text: 'Bad Request', close: true };
    if (dropped.length > 0) raw = withoutUnderscored(raw);
  }
  const { path: target, search } = requestPath(url);
  // Envoy's connection manager answers a target that is not a path (`*`, say) 404, and refuses
  // one with a fragment (http_reject_path_with_fragment, on by default) whatever the settings:
  // an application would drop `#...` after the intentions judged the path with it.
  if (!target.startsWith('/')) return { status: 404, text: '' };
  if (url.includes('#')) return { status: 400, text: '' };
  const out = normalizeRequestPath(target, n);
  if (out.action === 'reject') return { status: 400, text: '' };
  if (out.action === 'redirect') return { status: 307, text: '', headers: { location: out.path + search } };
  const headers = rbacHeaders(raw, method, out.path + search, authority);
  const forwarded = appHeaders({ [XFCC]: headers[XFCC] }, [], mesh, xfcc)[XFCC];
  if (forwarded) headers[XFCC] = forwarded;
  else delete headers[XFCC];
  return { l7: { method, path: out.path, query: new URLSearchParams(search), headers, url: out.path + search }, dropped };
}

/** The headers the application gets: `headers` without the dropped ones, x-forwarded-client-cert as the mesh entry says. */
export function appHeaders<H extends Record<string, unknown>>(headers: H, dropped: string[], mesh: MeshHttp, element: string): H {
  for (const name of dropped) delete headers[name];
  // SANITIZE: the caller's header is not passed on and none is added; else APPEND_FORWARD.
  if (mesh.sanitizeXfcc) delete headers[XFCC];
  else (headers as Record<string, unknown>)[XFCC] = appendXfcc(headers[XFCC] as string | string[] | undefined, element);
  return headers;
}
