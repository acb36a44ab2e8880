// Request targets as the HTTP transport reads them (src/http/server.ts): the decoded path, the
// query and whether the path is already clean, parsed as WHATWG URL parsing would but without
// building a URL for plain targets.

/** The target without ?cached (http_config.use_cache = false), for the handler and any forward. */
export function withoutCached(t: Target): Target {
  const query = new URLSearchParams(t.query);
  query.delete('cached');
  const rest = query.toString();
  return { ...t, query, search: rest ? `?${rest}` : '' };
}

/** A request target split into its decoded path, its query and whether the path is already clean. */
export interface Target {
  /** The path as URL parsing leaves it (still percent-encoded). */
  pathname: string;
  path: string;
  /** `?query`, or '' without one. */
  search: string;
  query: URLSearchParams;
  /** True when cleanPath() would return `path` unchanged. */
  clean: boolean;
}

// Targets that WHATWG URL parsing leaves as they are: no percent-escapes, dot segments, empty
// segments, fragments or characters it would encode. Everything else goes through new URL().
const PLAIN_PATH = /^\/[A-Za-z0-9\-_~:@!$&()*+,;=.\/]*$/;
const PLAIN_QUERY = /^[A-Za-z0-9\-_~:@!$&()*+,;=.\/?%]*$/;

/** Parses a request target like `new URL(url, 'http://agent')`, without building a URL for plain ones. */
export function parseTarget(url: string): Target | null {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  if (PLAIN_PATH.test(pathname) && !pathname.includes('//') && !pathname.includes('/.') && PLAIN_QUERY.test(rawQuery)) {
    return { pathname, path: pathname, search: rawQuery ? '?' + rawQuery : '', query: new URLSearchParams(rawQuery), clean: true };
  }
  try {
    const parsed = new URL(url, 'http://agent');
    // The path as sent, decoded: WHATWG parsing resolves dot segments (`/v1/kv/a/../b` is
    // `/v1/kv/b`, `%2e%2e` too), so the request would act on another resource. Consul's mux sees
    // them and answers a 301 to the cleaned path instead, acting on nothing.
    const raw = url.startsWith('/') ? pathname.split('#')[0] : parsed.pathname;
    return { pathname: parsed.pathname, path: decodeURIComponent(raw), search: parsed.search, query: parsed.searchParams, clean: false };
  } catch {
    return null;
  }
}
