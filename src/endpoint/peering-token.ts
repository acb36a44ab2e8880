// Peering names, tokens and meta as Consul validates them (agent/rpc/peering/validate.go,
// structs.ValidateMetaTags, the peering backend's token encoding): errors keep Consul's texts.
import { InternalError } from '../errors.ts';
import type { PeeringToken } from '../api/peering.ts';
import { goJsonSyntax } from '../http/go-json-syntax.ts';

const PEER_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const META_KEY = /^[a-zA-Z0-9_-]+$/;

/** Throws Consul's error for a peer name that is not a lower-case DNS label. */
export function validatePeerName(name: string): void {
  if (!PEER_NAME.test(name)) {
    throw new InternalError(`${name} is not a valid peer name: a valid peering name must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`);
  }
}

/** Throws Consul's error for peering meta that ValidateMetaTags refuses. */
export function validatePeeringMeta(meta: Record<string, string> | undefined): void {
  const entries = Object.entries(meta ?? {});
  const fail = (why: string): never => {
    throw new InternalError(`meta tags failed validation: ${why}`);
  };
  if (entries.length > 64) fail('Node metadata cannot contain more than 64 key/value pairs');
  for (const [k, v] of entries) {
    let why = '';
    if (k === '') why = 'Key cannot be blank';
    else if (!META_KEY.test(k)) why = 'Key contains invalid characters';
    else if (k.length > 128) why = 'Key is too long (limit: 128 characters)';
    else if (k.startsWith('consul-')) why = "Key prefix 'consul-' is reserved for internal use";
    else if (String(v).length > 512) why = 'Value is too long (limit: 512 characters)';
    if (why) fail(`Couldn't load metadata pair ('${k}', '${v}'): ${why}`);
  }
}

/** Encodes a token as Consul does: standard base64 of its JSON. */
export function encodePeeringToken(tok: PeeringToken): string {
  return Buffer.from(JSON.stringify(tok)).toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a token with Go's strictness (standard alphabet, padded) and Consul's texts. */
export function decodePeeringToken(raw: string): PeeringToken {
  if (raw.length % 4 !== 0 || !BASE64.test(raw)) {
    const bad = raw.search(/[^A-Za-z0-9+/=]/);
    throw new InternalError(`failed to decode token: illegal base64 data at input byte ${bad >= 0 ? bad : raw.length - (raw.length % 4)}`);
  }
  const text = Buffer.from(raw, 'base64').toString('utf8');
  let tok: unknown;
  try {
    tok = JSON.parse(text);
  } catch (err) {
    // Consul decodes with json.Unmarshal: its wording, and text after the value is an error.
    const go = goJsonSyntax(text, 'unmarshal');
    throw new InternalError('message' in go ? go.message : (err as Error).message);
  }
  // JSON null decodes to an empty token in Go (its contents are then refused by validation).
  if (tok !== null && (typeof tok !== 'object' || Array.isArray(tok))) {
    const kind = Array.isArray(tok) ? 'array' : typeof tok === 'boolean' ? 'bool' : typeof tok;
    throw new InternalError(`json: cannot unmarshal ${kind} into Go value of type structs.PeeringToken`);
  }
  const t = (tok ?? {}) as Partial<PeeringToken>;
  return {
    CA: Array.isArray(t.CA) ? t.CA.map(String) : null,
    ManualServerAddresses: Array.isArray(t.ManualServerAddresses) ? t.ManualServerAddresses.map(String) : null,
    ServerAddresses: Array.isArray(t.ServerAddresses) ? t.ServerAddresses.map(String) : null,
    ServerName: String(t.ServerName ?? ''), PeerID: String(t.PeerID ?? ''), EstablishmentSecret: String(t.EstablishmentSecret ?? ''),
    Remote: { Partition: String(t.Remote?.Partition ?? ''), Datacenter: String(t.Remote?.Datacenter ?? '') },
  };
}

/** The port of `host:port` as Go's net.SplitHostPort and strconv.Atoi read it; null when they refuse it. */
function portOf(addr: string): number | null {
  let rest: string;
  if (addr.startsWith('[')) {
    const end = addr.indexOf(']');
    if (end < 0 || addr[end + 1] !== ':') return null;
    rest = addr.slice(end + 2);
  } else {
    const i = addr.lastIndexOf(':');
    // Without brackets a host holds no colon ("too many colons") and no bracket.
    if (i < 0 || addr.slice(0, i).includes(':') || /[[\]]/.test(addr.slice(0, i))) return null;
    rest = addr.slice(i + 1);
  }
  if (/[[\]]/.test(rest) || !/^[+-]?\d+$/.test(rest)) return null;
  return Number(rest);
}

/** Consul's validatePeeringToken. */
export function validatePeeringToken(tok: PeeringToken): void {
  for (const ca of tok.CA ?? []) {
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new InternalError('peering token invalid CA: no PEM data found');
  }
  const addrs = [...(tok.ManualServerAddresses ?? []), ...(tok.ServerAddresses ?? [])];
  if (addrs.length === 0) throw new InternalError('peering token server addresses value is empty');
  for (const addr of addrs) {
    const port = portOf(addr);
    if (port === null || port < 1 || port > 65535) throw new InternalError(`${addr} is not a valid peering server address`);
  }
  if ((tok.CA?.length ?? 0) > 0 && tok.ServerName === '') throw new InternalError('peering token server name value is empty');
  if (tok.PeerID === '') throw new InternalError('peering token peer ID value is empty');
}
