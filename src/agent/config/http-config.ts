// The http_config block (Consul's HTTPConfig): response headers, the write allow-list, the
// endpoint denylist, use_cache, max_header_bytes and the unprintable-path filter switch, with Consul's CIDR check at build time.
import { isIP } from 'node:net';
import type { RuntimeConfig } from './runtime.ts';
import type { TreeReader } from './values.ts';

/** Reads http_config (response headers as Go writes them, see responseHeaders); an entry of allow_write_http_from that is not a CIDR fails as Consul's cidrsVal does. */
export function readHttpConfig(r: TreeReader): RuntimeConfig['http'] {
  return {
    responseHeaders: responseHeaders(r.stringMap('http_config.response_headers')),
    allowWriteHttpFrom: r.strings('http_config.allow_write_http_from').map((c) => cidr(c, r.errors)),
    blockEndpoints: r.strings('http_config.block_endpoints'),
    useCache: r.bool('http_config.use_cache', true),
    maxHeaderBytes: r.int('http_config.max_header_bytes', 0),
    // A top-level key in Consul's config, but it only changes the HTTP server.
    disableUnprintableCharFilter: r.bool('disable_http_unprintable_char_filter', false),
  };
}

// Go's net.ParseCIDR after strings.TrimSpace: an address, a slash and a prefix length that fits it.
// A bad entry is one of the build's errors, reported together as Consul's builder reports them.
function cidr(raw: string, errors: string[]): string {
  const v = raw.trim();
  const slash = v.lastIndexOf('/');
  // Go's ParseCIDR takes no IPv6 zone (fe80::1%eth0), which node's isIP allows.
  const family = slash < 0 || v.includes('%') ? 0 : isIP(v.slice(0, slash));
  const bits = v.slice(slash + 1);
  if (family === 0 || !/^\d+$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) {
    errors.push(`allow_write_http_from: invalid cidr: ${raw}`);
  }
  return v;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// The headers as Go's server writes what Consul's setHeaders sets: names canonical (Go's
// CanonicalHeaderKey: `access-control-allow-origin` → `Access-Control-Allow-Origin`), a name that
// is not a token dropped (Go skips it when writing; node would refuse every response instead),
// line breaks in a value turned into spaces and the value trimmed, control bytes node refuses dropped.
function responseHeaders(raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!TOKEN.test(name)) continue;
    const key = name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
    out[key] = value.replace(/[\r\n]/g, ' ').replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '').trim();
  }
  return out;
}
