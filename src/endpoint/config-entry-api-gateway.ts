// Normalize and Validate of the API gateway's config entries with Consul's texts
// (agent/structs/config_entry_gateways.go, config_entry_routes.go, config_entry_inline_certificate.go,
// config_entry_file_system_certificate.go): api-gateway, http-route, tcp-route and the certificates.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';

type Obj = Record<string, unknown>;

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

/** What the validators share with config-entry-validate.ts. */
export interface GatewayCheckDeps {
  /** Consul's validateConfigEntryMeta as one text, or null. */
  meta(meta: unknown): string | null;
  /** miekg/dns IsDomainName. */
  isDomainName(name: string): boolean;
}

const TLS_VERSIONS = ['TLS_AUTO', 'TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'];
const METHODS = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'];

/** A ResourceReference as Consul stores it: Kind (defaulted), Name, SectionName. */
function reference(r: Obj, kind: string): Obj {
  return { ...r, Kind: str(r.Kind) || kind, Name: r.Name ?? '', SectionName: r.SectionName ?? '' };
}

/** APIGatewayConfigEntry.Normalize: protocols lower-cased, certificate kinds defaulted; zero values as Consul renders them. */
export function normalizeApiGateway(e: Obj): void {
  if (!Array.isArray(e.Listeners)) return;
  e.Listeners = list(e.Listeners).map((l) => {
    const tls = obj(l.TLS);
    const certs = Array.isArray(tls.Certificates) ? list(tls.Certificates).map((c) => reference(c, 'inline-certificate')) : null;
    return {
      ...l, Name: l.Name ?? '', Hostname: l.Hostname ?? '', Port: l.Port ?? 0, Protocol: str(l.Protocol).toLowerCase(),
      TLS: { Certificates: certs, MaxVersion: tls.MaxVersion ?? '', MinVersion: tls.MinVersion ?? '', CipherSuites: tls.CipherSuites ?? null },
    };
  });
}

/** Consul's validateTLSConfig for a listener's versions and cipher suites. */
function tlsError(tls: Obj): string | null {
  for (const v of [str(tls.MinVersion), str(tls.MaxVersion)]) {
    if (v !== '' && !TLS_VERSIONS.includes(v)) return `no matching TLS version found for ${v}, please specify one of [${TLS_VERSIONS.join(', ')}]`;
  }
  const min = str(tls.MinVersion);
  if (list(tls.CipherSuites).length > 0 && !['TLSv1_0', 'TLSv1_1', 'TLSv1_2'].includes(min)) {
    return `configuring CipherSuites is only applicable to connections negotiated with TLS 1.2 or earlier, TLSMinVersion is set to ${min}`;
  }
  return null;
}

/** APIGatewayConfigEntry.Validate. */
export function validateApiGateway(e: Obj, d: GatewayCheckDeps): string | null {
  const meta = d.meta(e.Meta);
  if (meta) return meta;
  const listeners = list(e.Listeners);
  if (listeners.length === 0) return 'api gateway must have at least one listener';
  const names = new Set<string>();
  for (const l of listeners) {
    const name = str(l.Name);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name)) {
      return `listener name ${JSON.stringify(name)} is invalid, must be at least 1 character and contain only letters, numbers, or dashes`;
    }
    if (names.has(name)) return `found multiple listeners with the name ${JSON.stringify(name)}`;
    names.add(name);
  }
  const byPort = new Map<number, Obj>();
  for (const l of listeners) {
    const merged = byPort.get(Number(l.Port ?? 0));
    if (merged && (str(merged.Hostname) !== str(l.Hostname) || str(merged.Protocol) !== str(l.Protocol))) {
      return `listeners ${JSON.stringify(str(merged.Name))} and ${JSON.stringify(str(l.Name))} cannot be merged`;
    }
    byPort.set(Number(l.Port ?? 0), l);
  }
  for (const l of listeners) {
    const protocol = str(l.Protocol);
    if (protocol !== 'http' && protocol !== 'tcp') return `unsupported listener protocol ${JSON.stringify(protocol)}, must be one of 'tcp', or 'http'`;
    if (protocol === 'tcp' && str(l.Hostname) !== '') return 'hostname specification is not supported when using TCP';
    const port = Number(l.Port ?? 0);
    if (port <= 0 || port > 65535) return `listener port ${port} not in the range 1-65535`;
    const host = str(l.Hostname);
    if ((host.startsWith('*.') ? host.slice(2) : host).includes('*')) {
      return `host ${JSON.stringify(host)} is not valid, a wildcard specifier is only allowed as the left-most label`;
    }
    const tls = obj(l.TLS);
    for (const c of list(tls.Certificates)) {
      if (c.Kind !== 'inline-certificate' && c.Kind !== 'file-system-certificate') {
        return `unsupported certificate kind: ${JSON.stringify(str(c.Kind))}, must be 'inline-certificate' or 'file-system-certificate'`;
      }
      if (!c.Name) return 'certificate reference must have a name';
    }
    const err = tlsError(tls);
    if (err) return err;
  }
  return null;
}

/** The filters block of a rule or service with Consul's zero values. */
function filters(f: unknown): Obj {
  const o = obj(f);
  const timeout = o.TimeoutFilter ? { RequestTimeout: 0, IdleTimeout: 0, ...obj(o.TimeoutFilter) } : null;
  // In HTTPFilters' struct order whatever order the body gave.
  return { Headers: o.Headers ?? null, URLRewrite: o.URLRewrite ?? null, RetryFilter: o.RetryFilter ?? null, TimeoutFilter: timeout, JWT: o.JWT ?? null };
}

/** A match with Consul's normalizeHTTPMatch: the method upper-cased, an unset path match a prefix `/`. */
function match(m: Obj): Obj {
  const path = obj(m.Path);
  const p = str(path.Match) === '' ? { Match: 'prefix', Value: '/' } : { Match: path.Match, Value: path.Value ?? '' };
  return { ...m, Headers: m.Headers ?? null, Method: str(m.Method).toUpperCase(), Path: p, Query: m.Query ?? null };
}

/** HTTPRouteConfigEntry.Normalize: parent kinds defaulted, matches normalized, weights at least 1; zero values as Consul renders them. */
export function normalizeHttpRoute(e: Obj): void {
  if (Array.isArray(e.Parents)) e.Parents = list(e.Parents).map((p) => reference(p, 'api-gateway'));
  if (!Array.isArray(e.Rules)) return;
  e.Rules = list(e.Rules).map((r) => ({
    // HTTPRouteRule's struct order: Filters, ResponseFilters, Matches, Services.
    Filters: filters(r.Filters),
    ResponseFilters: { ...obj(r.ResponseFilters), Headers: obj(r.ResponseFilters).Headers ?? null },
    Matches: Array.isArray(r.Matches) ? list(r.Matches).map(match) : null,
    Services: Array.isArray(r.Services)
      ? list(r.Services).map((s) => ({
        ...s, Name: s.Name ?? '', Weight: Number(s.Weight ?? 0) > 0 ? Number(s.Weight) : 1, Filters: filters(s.Filters),
        ResponseFilters: { ...obj(s.ResponseFilters), Headers: obj(s.ResponseFilters).Headers ?? null },
      }))
      : null,
  }));
}

/** TCPRouteConfigEntry.Normalize: parent kinds defaulted. */
export function normalizeTcpRoute(e: Obj): void {
  if (Array.isArray(e.Parents)) e.Parents = list(e.Parents).map((p) => reference(p, 'api-gateway'));
}

/** The parent checks both routes make. */
function parentsError(e: Obj): string | null {
  const seen = new Set<string>();
  for (const p of list(e.Parents)) {
    if (p.Kind !== 'api-gateway') return `unsupported parent kind: ${JSON.stringify(str(p.Kind))}, must be 'api-gateway'`;
    const key = JSON.stringify([p.Kind, p.Name, p.SectionName]);
    if (seen.has(key)) return 'route parents must be unique';
    seen.add(key);
  }
  return null;
}

function matchError(m: Obj): string | null {
  const method = str(m.Method);
  if (method !== '' && !METHODS.includes(method)) return `Method contains an invalid method ${JSON.stringify(method)}`;
  for (const [i, q] of list(m.Query).entries()) {
    if (!q.Name) return `Query[${i}], missing required Name field`;
    if (!['exact', 'present', 'regex'].includes(str(q.Match))) return `Query[${i}], match type should be one of present, exact, or regex`;
  }
  for (const [i, h] of list(m.Headers).entries()) {
    if (!h.Name) return `Headers[${i}], missing required Name field`;
    if (!['exact', 'prefix', 'regex', 'suffix', 'present'].includes(str(h.Match))) {
      return `Headers[${i}], match type should be one of present, exact, prefix, suffix, or regex`;
    }
  }
  const path = obj(m.Path);
  const kind = str(path.Match);
  if (kind === 'exact' || kind === 'prefix') {
    if (!str(path.Value).startsWith('/')) return `Path, ${kind} type match doesn't start with '/': ${JSON.stringify(str(path.Value))}`;
  } else if (kind !== 'regex') {
    return 'Path, match type should be one of exact, prefix, or regex';
  }
  return null;
}

/** HTTPRouteConfigEntry.Validate. */
export function validateHttpRoute(e: Obj, d: GatewayCheckDeps): string | null {
  for (const h of (Array.isArray(e.Hostnames) ? e.Hostnames : []) as unknown[]) {
    const host = String(h);
    if (!d.isDomainName(host)) return `host ${JSON.stringify(host)} must be a valid DNS hostname`;
    if (host.includes('*')) return `host ${JSON.stringify(host)} must not be a wildcard`;
  }
  const parents = parentsError(e) ?? d.meta(e.Meta);
  if (parents) return parents;
  for (const [i, r] of list(e.Rules).entries()) {
    for (const [j, m] of list(r.Matches).entries()) {
      const err = matchError(m);
      if (err) return `Rule[${i}], Match[${j}], ${err}`;
    }
  }
  return null;
}

/** TCPRouteConfigEntry.Validate. */
export function validateTcpRoute(e: Obj, d: GatewayCheckDeps): string | null {
  if (list(e.Services).length > 1) return 'tcp-route currently only supports one service';
  return parentsError(e) ?? d.meta(e.Meta);
}

/** The first PEM block of `text` (Go's pem.Decode): its type and DER bytes, or null. */
function pemBlock(text: string): { type: string; der: Buffer } | null {
  const m = /-----BEGIN ([^-\n]*)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return null;
  return { type: m[1], der: Buffer.from(m[2].replace(/^[\w-]+:.*$/gm, '').replace(/\s+/g, ''), 'base64') };
}

/** The names a certificate covers (Consul's Hosts): its CN, DNS SANs and IP SANs. */
function certificateHosts(cert: X509Certificate): string[] {
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? '';
  const sans = (cert.subjectAltName ?? '').split(', ').filter((s) => s !== '');
  return [cn, ...sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)), ...sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11))];
}

/** InlineCertificateConfigEntry.Validate: a parseable certificate and matching key, an RSA key of 2048 bits or more, DNS-valid names. */
export function validateInlineCertificate(e: Obj, d: GatewayCheckDeps): string | null {
  const meta = d.meta(e.Meta);
  if (meta) return meta;
  const keyBlock = pemBlock(str(e.PrivateKey));
  if (!keyBlock) return 'failed to parse private key PEM';
  let key: KeyObject | null = null;
  try {
    key = createPrivateKey(str(e.PrivateKey));
  } catch {
    // validateKeyLength parses an RSA PKCS#1 key first; any other is parsed by X509KeyPair after the certificate's checks.
    if (keyBlock.type === 'RSA PRIVATE KEY') return 'x509: failed to parse private key';
  }
  if (key && keyBlock.type === 'RSA PRIVATE KEY' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return 'key length must be at least 2048 bits';
  const certBlock = pemBlock(str(e.Certificate));
  if (!certBlock) return 'failed to parse certificate PEM';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certBlock.der);
  } catch (err) {
    return `failed to parse certificate: ${(err as Error).message}`;
  }
  if (!key) return 'tls: failed to parse private key';
  if (!cert.checkPrivateKey(key)) return 'tls: private key does not match public key';
  for (const host of certificateHosts(cert)) if (!d.isDomainName(host)) return `host ${JSON.stringify(host)} must be a valid DNS hostname`;
  return null;
}
