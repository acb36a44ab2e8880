// Client configuration as Consul's Go api builds it: the address forms of CONSUL_HTTP_ADDR
// (host:port, http://, https://, unix://), the token sources, basic auth and TLS settings.

import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, goFileError } from './errors.ts';

/** Options for `new ConsulClient(…)`; anything left out comes from the environment. */
export interface ClientOptions {
  /** `host:port`, `http://host:port[/prefix]`, `https://…` or `unix:///path/to.sock`; default CONSUL_HTTP_ADDR or 127.0.0.1:8500. */
  address?: string;
  /** ACL token; when given (even ''), wins over every other source. */
  token?: string;
  /** File holding the ACL token; wins over CONSUL_HTTP_TOKEN_FILE and CONSUL_HTTP_TOKEN. */
  tokenFile?: string;
  /** Datacenter sent as `?dc=` on every request unless a call names another. */
  datacenter?: string;
  /** Namespace sent as `?ns=` on every request; default CONSUL_NAMESPACE ('' sends none, whatever the variable says). */
  namespace?: string;
  /** Admin partition sent as `?partition=` on every request; default CONSUL_PARTITION ('' sends none). */
  partition?: string;
  /** TLS settings for https; default from CONSUL_CACERT, CONSUL_CAPATH, CONSUL_CLIENT_CERT, … */
  tls?: TlsOptions;
  /** The environment to read defaults from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** TLS settings, named after the CLI flags. */
export interface TlsOptions {
  caFile?: string;
  caPath?: string;
  clientCert?: string;
  clientKey?: string;
  serverName?: string;
  insecureSkipVerify?: boolean;
}

/** Where and how to send requests, fully resolved. */
export interface ResolvedConfig {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  socketPath?: string;
  pathPrefix: string;
  token: string;
  datacenter: string;
  /** '' when none: no `ns` parameter. */
  namespace?: string;
  /** '' when none: no `partition` parameter. */
  partition?: string;
  basicAuth?: string;
  tls: TlsOptions;
}

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean | null {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  return null;
}

/** Reads a token file like the Go client: trimmed content; a read failure is a ConfigError. */
export function readTokenFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`Error loading token file: ${goFileError(err as NodeJS.ErrnoException, path)}`, { cause: err });
  }
}

/** Splits an address into scheme, host, port, socket path and path prefix (Go api's NewClient rules). */
export function parseAddress(address: string, defaultScheme: 'http' | 'https' = 'http'): Pick<ResolvedConfig, 'scheme' | 'host' | 'port' | 'socketPath' | 'pathPrefix'> {
  let scheme = defaultScheme;
  let rest = address;
  let pathPrefix = '';
  const sep = address.indexOf('://');
  if (sep >= 0) {
    const proto = address.slice(0, sep);
    rest = address.slice(sep + 3);
    if (proto === 'unix') return { scheme, host: 'localhost', port: 0, socketPath: rest, pathPrefix: '' };
    if (proto === 'https') scheme = 'https';
    // `http://` never downgrades a scheme that CONSUL_HTTP_SSL asked to be https.
    else if (proto !== 'http') throw new ConfigError(`Unknown protocol scheme: ${proto}`);
    const slash = rest.indexOf('/');
    if (slash >= 0) {
      pathPrefix = rest.slice(slash);
      rest = rest.slice(0, slash);
    }
  }
  const { host, port } = splitHostPort(rest, scheme === 'https' ? 443 : 80);
  return { scheme, host, port, pathPrefix };
}

function splitHostPort(hp: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(hp) ?? /^([^:]*)(?::(\d+))?$/.exec(hp);
  if (!m) return { host: hp, port: defaultPort };
  return { host: m[1] || '127.0.0.1', port: m[2] ? Number(m[2]) : defaultPort };
}

/** Resolves options against the environment: explicit option > token file > CONSUL_HTTP_TOKEN. */
export function resolveConfig(opts: ClientOptions = {}): ResolvedConfig {
  const env = opts.env ?? process.env;
  const ssl = env.CONSUL_HTTP_SSL ? parseBool(env.CONSUL_HTTP_SSL) === true : false;
  const address = opts.address || env.CONSUL_HTTP_ADDR || '127.0.0.1:8500';
  const where = parseAddress(address, ssl ? 'https' : 'http');
  let token = opts.token;
  if (token === undefined) {
    const file = opts.tokenFile || env.CONSUL_HTTP_TOKEN_FILE;
    const fromFile = file ? readTokenFile(file) : '';
    token = fromFile || env.CONSUL_HTTP_TOKEN || '';
  }
  let basicAuth: string | undefined;
  if (env.CONSUL_HTTP_AUTH) {
    const auth = env.CONSUL_HTTP_AUTH.includes(':') ? env.CONSUL_HTTP_AUTH : `${env.CONSUL_HTTP_AUTH}:`;
    basicAuth = `Basic ${Buffer.from(auth).toString('base64')}`;
  }
  const verify = env.CONSUL_HTTP_SSL_VERIFY ? parseBool(env.CONSUL_HTTP_SSL_VERIFY) : null;
  const tls: TlsOptions = {
    caFile: opts.tls?.caFile || env.CONSUL_CACERT || undefined,
    caPath: opts.tls?.caPath || env.CONSUL_CAPATH || undefined,
    clientCert: opts.tls?.clientCert || env.CONSUL_CLIENT_CERT || undefined,
    clientKey: opts.tls?.clientKey || env.CONSUL_CLIENT_KEY || undefined,
    serverName: opts.tls?.serverName || env.CONSUL_TLS_SERVER_NAME || undefined,
    insecureSkipVerify: opts.tls?.insecureSkipVerify ?? verify === false,
  };
  // Go's HTTPFlags.MergeOntoConfig: a given -namespace/-partition, even empty, replaces the variable.
  const namespace = opts.namespace ?? env.CONSUL_NAMESPACE ?? '';
  const partition = opts.partition ?? env.CONSUL_PARTITION ?? '';
  return { ...where, token, datacenter: opts.datacenter ?? '', namespace, partition, basicAuth, tls };
}

// Go's AppendCertsFromPEM accepts a file holding at least one certificate block.
function hasCertificate(pem: Buffer): boolean {
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem.toString('utf8'));
}

/** go-rootcerts' LoadCAFile, with its error texts. */
function loadCAFile(path: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new ConfigError(`Error loading CA File: ${goFileError(err as NodeJS.ErrnoException, path)}`, { cause: err });
  }
  if (!hasCertificate(pem)) throw new ConfigError(`Error loading CA File: Couldn't parse PEM in: ${path}`);
  return pem;
}

/** go-rootcerts' LoadCAPath: every file under the directory (recursively, in lexical order) must hold a certificate. */
function loadCAPath(dir: string): Buffer[] {
  const out: Buffer[] = [];
  const walk = (path: string): void => {
    let entries: string[];
    try {
      if (!lstatSync(path).isDirectory()) {
        out.push(readCAPathFile(path));
        return;
      }
      entries = readdirSync(path).sort();
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new ConfigError(e.code === 'ENOENT' ? `lstat ${path}: no such file or directory` : e.message, { cause: err });
    }
    for (const name of entries) walk(join(path, name));
  };
  walk(dir);
  return out;
}

function readCAPathFile(path: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new ConfigError(`Error loading file from CAPath: ${goFileError(err as NodeJS.ErrnoException, path)}`, { cause: err });
  }
  if (!hasCertificate(pem)) throw new ConfigError(`Error loading CA Path: Couldn't parse PEM in: ${path}`);
  return pem;
}

/** Loads the CA bundle, client certificate and key named by TLS options, for node:https. */
export function loadTls(tls: TlsOptions): { ca?: Buffer[]; cert?: Buffer; key?: Buffer; servername?: string; rejectUnauthorized: boolean } {
  const read = (path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(goFileError(err as NodeJS.ErrnoException, path), { cause: err });
    }
  };
  if (!!tls.clientCert !== !!tls.clientKey) throw new ConfigError('both client cert and client key must be provided');
  const ca = tls.caFile ? [loadCAFile(tls.caFile)] : tls.caPath ? loadCAPath(tls.caPath) : [];
  const serverName = tls.serverName?.replace(/:\d+$/, '');
  return {
    ca: ca.length ? ca : undefined,
    cert: tls.clientCert ? read(tls.clientCert) : undefined,
    key: tls.clientKey ? read(tls.clientKey) : undefined,
    servername: serverName || undefined,
    rejectUnauthorized: !tls.insecureSkipVerify,
  };
}
