// Normalize and Validate of config entries with Consul's texts (agent/structs/config_entry*.go):
// defaults and lower-casing first, then the checks that reject an entry before it is stored.
import { FIXED_NAMES } from './config-entry-kinds.ts';
import { normalizeIntentions, validateIntentions } from './config-entry-intentions.ts';
import { validateSamenessGroup } from './config-entry-sameness.ts';
import { isDefaultEnt, partitionEnt, type EnterpriseMeta } from '../state/index.ts';
import { normalizeRouter, validateResolverRules, validateRouter } from './config-entry-chain-validate.ts';
import {
  normalizeApiGateway, normalizeHttpRoute, normalizeTcpRoute, validateApiGateway, validateHttpRoute, validateInlineCertificate,
  validateTcpRoute, type GatewayCheckDeps,
} from './config-entry-api-gateway.ts';

type Obj = Record<string, unknown>;
type Check = (e: Obj, ent?: EnterpriseMeta) => string | null;

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const lower = (o: Obj, f: string): void => {
  if (typeof o[f] === 'string') o[f] = (o[f] as string).toLowerCase();
};

/** Go's multierror text, used where Consul collects several errors. */
export function multiError(errors: string[]): string | null {
  if (errors.length === 0) return null;
  const n = errors.length;
  return `${n} error${n === 1 ? '' : 's'} occurred:\n${errors.map((e) => `\t* ${e}`).join('\n')}\n\n`;
}

function metaErrors(meta: unknown): string[] {
  const m = (meta && typeof meta === 'object' ? meta : {}) as Record<string, string>;
  const out: string[] = [];
  if (Object.keys(m).length > 64) out.push('Meta exceeds maximum element count 64');
  for (const [k, v] of Object.entries(m)) {
    if (k.length > 128) out.push(`Meta key ${JSON.stringify(k)} exceeds maximum length 128`);
    if (String(v).length > 512) out.push(`Meta value for key ${JSON.stringify(k)} exceeds maximum length 512`);
  }
  return out;
}

function serviceDefaults(e: Obj): string | null {
  if (!e.Name) return 'Name is required';
  if (e.Name === '*') return 'service-defaults name must be the name of a service, and not a wildcard';
  const errs = metaErrors(e.Meta);
  const balance = str(e.BalanceInboundConnections);
  if (balance !== '' && balance !== 'exact_balance') errs.push(`invalid value for balance_inbound_connections: ${balance}`);
  const up = e.UpstreamConfig as Obj | undefined;
  if (up && e.Destination) {
    errs.push('UpstreamConfig and Destination are mutually exclusive for service defaults');
    return multiError(errs);
  }
  for (const o of list(up?.Overrides)) {
    if (!o.Name) errs.push('error in upstream override for : Name is required');
    else if (o.Name === '*') errs.push(`error in upstream override for ${String(o.Name)}: Wildcard name is not supported`);
  }
  if ((up?.Defaults as Obj | undefined)?.Name) errs.push('error in upstream defaults: Name must be empty');
  const dest = e.Destination as Obj | undefined;
  if (dest) {
    if (list(dest.Addresses).length === 0) errs.push('Destination must contain at least one valid address');
    const port = Number(dest.Port ?? 0);
    if (port < 1 || port > 65535) errs.push(`Invalid Port number ${port}`);
  }
  const mtls = str(e.MutualTLSMode);
  if (!['', 'strict', 'permissive'].includes(mtls)) {
    return `Invalid MutualTLSMode ${JSON.stringify(mtls)}. Must be one of "", "strict", or "permissive".`;
  }
  return multiError(errs);
}

function splitter(e: Obj, ent?: EnterpriseMeta): string | null {
  const splits = list(e.Splits);
  if (splits.length === 0) return 'no splits configured';
  const seen = new Set<string>();
  let sum = 0;
  for (const s of splits) {
    const service = str(s.Service) || str(e.Name);
    // The split as written (Consul's copyAsKey): the same service in another namespace or partition is
    // another destination. The default tenant's text names `default` for the absent fields, as before namespaces.
    const unset = ent && !isDefaultEnt(ent) ? '' : 'default';
    const namespace = str(s.Namespace) || unset;
    const partition = str(s.Partition) || unset;
    const key = `${service}\0${str(s.ServiceSubset)}\0${namespace}\0${partition}`;
    if (seen.has(key)) {
      return `split destination occurs more than once: service=${JSON.stringify(service)}, subset=${JSON.stringify(str(s.ServiceSubset))}, namespace=${JSON.stringify(namespace)}, partition=${JSON.stringify(partition)}`;
    }
    seen.add(key);
    sum += Math.round(Number(s.Weight ?? 0) * 100);
  }
  if (sum !== 10000) return `the sum of all split weights must be 100, not ${(sum / 100).toFixed(6)}`;
  return null;
}

function resolver(e: Obj): string | null {
  const subsets = (e.Subsets ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(subsets)) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)) return `Subset ${JSON.stringify(name)} is invalid`;
  }
  const def = str(e.DefaultSubset);
  if (def && !(def in subsets)) return `DefaultSubset ${JSON.stringify(def)} is not a valid subset`;
  return validateResolverRules(e);
}

function ingressListener(l: Obj, tlsEnabled: boolean): string | null {
  const port = Number(l.Port ?? 0);
  const protocol = str(l.Protocol);
  if (!['tcp', 'http', 'http2', 'grpc'].includes(protocol)) {
    return `protocol must be 'tcp', 'http', 'http2', or 'grpc'. '${protocol}' is an unsupported protocol`;
  }
  const services = list(l.Services);
  if (services.length === 0) return `No service declared for listener with port ${port}`;
  if (protocol === 'tcp' && services.length > 1) {
    return `Multiple services per listener are only supported for L7 protocols, 'http', 'grpc' and 'http2' (listener on port ${port})`;
  }
  const names = new Set<string>();
  const hosts = new Set<string>();
  for (const s of services) {
    const hs = list(s.Hosts) as unknown as string[];
    if (protocol === 'tcp' && s.Name === '*') return `Wildcard service name is only valid for protocol = 'http' (listener on port ${port})`;
    if (protocol === 'tcp' && hs.length) return `Associating hosts to a service is not supported for the tcp protocol (listener on port ${port})`;
    if (!s.Name) return `Service name cannot be blank (listener on port ${port})`;
    if (s.Name === '*' && hs.length) return `Associating hosts to a wildcard service is not supported (listener on port ${port})`;
    if (names.has(str(s.Name))) return `Service ${str(s.Name)} cannot be added multiple times (listener on port ${port})`;
    names.add(str(s.Name));
    for (const h of hs) {
      if (hosts.has(h)) return `Hosts must be unique within a specific listener (listener on port ${port})`;
      hosts.add(h);
      const bad = ingressHostError(tlsEnabled, String(h));
      if (bad) return bad;
    }
  }
  return null;
}

/** Consul's validateHost: `*` alone (not with the gateway's TLS), else a DNS name whose only wildcard is a whole leftmost label. */
function ingressHostError(tlsEnabled: boolean, host: string): string | null {
  if (host === '*') return tlsEnabled ? "Host '*' is not allowed when TLS is enabled, all hosts must be valid DNS records to add as a DNSSAN" : null;
  if (!isDomainName(host)) return `Host ${JSON.stringify(host)} must be a valid DNS hostname`;
  if ((host.startsWith('*.') ? host.slice(2) : host).includes('*')) return `Host ${JSON.stringify(host)} is not valid, a wildcard specifier is only allowed as the leftmost label`;
  return null;
}

/** miekg/dns IsDomainName's shape checks: no empty label, labels of at most 63 bytes, at most 255 in wire form. */
function isDomainName(name: string): boolean {
  if (name === '') return false;
  if (name === '.') return true;
  const labels = name.replace(/\.$/, '').split('.');
  if (labels.some((l) => l.length === 0 || Buffer.byteLength(l) > 63)) return false;
  return labels.reduce((n, l) => n + Buffer.byteLength(l) + 1, 1) <= 255;
}

function ingress(e: Obj): string | null {
  const meta = multiError(metaErrors(e.Meta));
  if (meta) return meta;
  const ports = new Set<number>();
  for (const l of list(e.Listeners)) {
    const port = Number(l.Port ?? 0);
    if (ports.has(port)) return `port ${port} declared on two listeners`;
    ports.add(port);
    const err = ingressListener(l, (e.TLS as Obj | null | undefined)?.Enabled === true);
    if (err) return err;
  }
  return null;
}

function terminating(e: Obj): string | null {
  const meta = multiError(metaErrors(e.Meta));
  if (meta) return meta;
  const seen = new Set<string>();
  for (const s of list(e.Services)) {
    if (!s.Name) return 'Service name cannot be blank.';
    if (seen.has(str(s.Name))) return `Service ${JSON.stringify(str(s.Name))} was specified more than once within a namespace`;
    seen.add(str(s.Name));
    if ((s.CertFile || s.KeyFile) && !(s.CAFile && s.CertFile && s.KeyFile)) {
      return `Service ${JSON.stringify(str(s.Name))} must have a CertFile, CAFile, and KeyFile specified for TLS origination`;
    }
  }
  return null;
}

function exported(e: Obj): string | null {
  if (e.Name === '*') return 'exported-services Name must be the name of a partition, and not a wildcard';
  for (const [i, s] of list(e.Services).entries()) {
    if (!s.Name) return `Services[${i}]: service name cannot be empty`;
    if (list(s.Consumers).length === 0) return `Services[${i}]: must have at least one consumer`;
  }
  return multiError(metaErrors(e.Meta));
}

const GATEWAY_DEPS: GatewayCheckDeps = { meta: (m) => multiError(metaErrors(m)), isDomainName };

const ESCAPED_SLASHES = ['IMPLEMENTATION_SPECIFIC_DEFAULT', 'KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'];
const UNDERSCORES = ['ALLOW', 'REJECT_REQUEST', 'DROP_HEADER'];

function enumError(field: string, v: unknown, allowed: string[]): string | null {
  if (v === undefined || v === '' || allowed.includes(String(v))) return null;
  return `no matching ${field} value found for ${String(v)}, please specify one of [${allowed.join(', ')}]`;
}

/** MeshConfigEntry.Validate's HTTP part: the request normalization enums. */
function mesh(e: Obj): string | null {
  const metaErr = multiError(metaErrors(e.Meta));
  if (metaErr) return metaErr;
  const rn = ((e.HTTP as Obj | null | undefined)?.Incoming as Obj | null | undefined)?.RequestNormalization as Obj | null | undefined;
  if (!rn) return null;
  const err = enumError('PathWithEscapedSlashesAction', rn.PathWithEscapedSlashesAction, ESCAPED_SLASHES)
    ?? enumError('HeadersWithUnderscoresAction', rn.HeadersWithUnderscoresAction, UNDERSCORES);
  return err && `error in HTTP incoming request normalization configuration: ${err}`;
}

/** The mesh entry's HTTP block as Consul stores and renders it: Go field order, zero values filled in. */
function normalizeMeshHttp(e: Obj): void {
  const http = e.HTTP as Obj | null | undefined;
  if (!http || typeof http !== 'object') return void delete e.HTTP;
  const out: Obj = { SanitizeXForwardedClientCert: http.SanitizeXForwardedClientCert ?? false };
  const incoming = http.Incoming as Obj | null | undefined;
  if (incoming && typeof incoming === 'object') {
    const rn = incoming.RequestNormalization as Obj | null | undefined;
    out.Incoming = rn && typeof rn === 'object'
      ? { RequestNormalization: {
        InsecureDisablePathNormalization: rn.InsecureDisablePathNormalization ?? false, MergeSlashes: rn.MergeSlashes ?? false,
        PathWithEscapedSlashesAction: rn.PathWithEscapedSlashesAction ?? '', HeadersWithUnderscoresAction: rn.HeadersWithUnderscoresAction ?? '',
      } }
      : {};
  }
  e.HTTP = out;
}

const CHECKS: Record<string, Check> = {
  'service-defaults': serviceDefaults,
  'service-splitter': splitter,
  'service-resolver': resolver,
  'service-router': (e) => multiError(metaErrors(e.Meta)) ?? validateRouter(e),
  'ingress-gateway': ingress,
  'terminating-gateway': terminating,
  'service-intentions': (e) => validateIntentions(e),
  'exported-services': exported,
  'sameness-group': (e, ent) => validateSamenessGroup(e, ent) ?? multiError(metaErrors(e.Meta)),
  'api-gateway': (e) => validateApiGateway(e, GATEWAY_DEPS),
  'http-route': (e) => validateHttpRoute(e, GATEWAY_DEPS),
  'tcp-route': (e) => validateTcpRoute(e, GATEWAY_DEPS),
  'inline-certificate': (e) => validateInlineCertificate(e, GATEWAY_DEPS),
  mesh,
};

/** Consul's Normalize: Kind set, fixed names filled in, protocols and actions lower-cased, defaults. */
export function normalizeEntry(kind: string, e: Obj, ent?: EnterpriseMeta): string | null {
  e.Kind = kind;
  const fixed = FIXED_NAMES[kind];
  if (fixed) {
    if (e.Name && e.Name !== fixed) return `invalid name (${JSON.stringify(e.Name)}), only ${JSON.stringify(fixed)} is supported`;
    e.Name = fixed;
  }
  if (kind === 'service-defaults') lower(e, 'Protocol');
  for (const o of list((e.UpstreamConfig as Obj | undefined)?.Overrides)) lower(o, 'Protocol');
  if (kind === 'ingress-gateway') {
    for (const l of list(e.Listeners)) {
      if (!l.Protocol) l.Protocol = 'tcp';
      lower(l, 'Protocol');
      for (const s of list(l.Services)) if (!('Hosts' in s)) s.Hosts = null;
    }
  }
  if (kind === 'service-intentions') normalizeIntentions(e, false, ent);
  if (kind === 'mesh' && 'HTTP' in e) normalizeMeshHttp(e);
  if (kind === 'api-gateway') normalizeApiGateway(e);
  if (kind === 'http-route') normalizeHttpRoute(e);
  if (kind === 'tcp-route') normalizeTcpRoute(e);
  if (kind === 'service-router') normalizeRouter(e);
  if (kind === 'exported-services') {
    // `default` is what an absent namespace means; a consumer partition `default` is the entry's own in the default partition.
    for (const s of list(e.Services)) {
      if (s.Namespace === '' || s.Namespace === 'default') delete s.Namespace;
      if (!ent || isDefaultEnt(partitionEnt(ent.partition))) for (const c of list(s.Consumers)) if (c.Partition === '' || c.Partition === 'default') delete c.Partition;
    }
  }
  if (kind === 'service-splitter') {
    for (const s of list(e.Splits)) {
      s.Weight = Math.round(Number(s.Weight ?? 0) * 100) / 100;
      // In the default tenant `default` is what a split inherits anyway: kept out, as before namespaces.
      if (!ent || isDefaultEnt(ent)) for (const f of ['Namespace', 'Partition']) if (s[f] === '' || s[f] === 'default') delete s[f];
    }
  }
  return null;
}

/** Consul's Validate; returns the error text or null. */
export function validateEntry(kind: string, e: Obj, ent?: EnterpriseMeta): string | null {
  if (!e.Name) return 'Name is required';
  if (kind === 'service-intentions') return validateIntentions(e, false, ent);
  const check = CHECKS[kind];
  return check ? check(e, ent) : multiError(metaErrors(e.Meta));
}
