// Service definitions from agent configuration files (HCL or JSON) as `consul services
// register|deregister` read them (command/services/config.go): the files are parsed with the
// agent's own config parser and each `service`/`services` entry becomes the registration the
// Go client sends, keys renamed to the API's JSON names.

import { parseSource, sourcesFromPath } from '../agent/config/index.ts';
import type { AgentServiceRegistration } from '../api/index.ts';

type Tree = Record<string, unknown>;
type Context = 'service' | 'check' | 'generic';

/** Keys whose values are user data: their own keys are never renamed. */
const OPAQUE = new Set(['meta', 'header', 'config']);

/** Names the generic snake→Pascal rule gets wrong, by context and normalized key. */
const RENAMES: Record<Context, Record<string, string>> = {
  service: {},
  check: { id: 'CheckID', checkid: 'CheckID', args: 'ScriptArgs', scriptargs: 'ScriptArgs', h2pingusetls: 'H2PingUseTLS' },
  generic: {},
};

/** Go initialisms Consul's JSON names keep upper-case. */
const INITIALISMS = new Set(['id', 'http', 'tcp', 'udp', 'grpc', 'tls', 'ttl', 'os', 'h2ping']);

/** `snake_case` → Consul's JSON name; keys that already carry capitals are kept as written. */
function jsonName(key: string, ctx: Context): string {
  const norm = key.toLowerCase().replaceAll('_', '');
  const renamed = RENAMES[ctx][norm];
  if (renamed) return renamed;
  if (/[A-Z]/.test(key)) return key;
  return key.split('_').map((p) => (INITIALISMS.has(p) ? p.toUpperCase() : p.charAt(0).toUpperCase() + p.slice(1))).join('');
}

/** The context the value under `key` is read in. */
function childContext(key: string, ctx: Context): Context {
  const norm = key.toLowerCase().replaceAll('_', '');
  if (norm === 'check' || norm === 'checks') return ctx === 'service' ? 'check' : 'generic';
  if (norm === 'sidecarservice') return 'service';
  return 'generic';
}

function translate(value: unknown, ctx: Context): unknown {
  if (Array.isArray(value)) return value.map((v) => translate(v, ctx));
  if (value === null || typeof value !== 'object') return value;
  const out: Tree = {};
  for (const [k, v] of Object.entries(value as Tree)) {
    const norm = k.toLowerCase().replaceAll('_', '');
    if (OPAQUE.has(norm)) out[jsonName(k, ctx)] = v;
    else if (norm === 'taggedaddresses' && v && typeof v === 'object') {
      out.TaggedAddresses = Object.fromEntries(Object.entries(v as Tree).map(([name, addr]) => [name, translate(addr, 'generic')]));
    } else out[jsonName(k, ctx)] = translate(v, childContext(k, ctx));
  }
  return out;
}

/** A check's config keys that api.AgentServiceCheck has no field for (a service's check is a CheckType). */
const CHECK_CONFIG_ONLY = ['Token', 'Namespace', 'Partition'];

/**
 * Leaves out what Consul's CLI cannot send, since it converts the definition to the Go client's
 * api.AgentServiceRegistration: the tokens (agent-side configuration) and a check's own tenancy.
 * The agent decodes the body refusing unknown keys, so passing them on would fail the registration.
 */
function dropConfigOnly(reg: Tree): void {
  delete reg.Token;
  const checks = [reg.Check, ...(Array.isArray(reg.Checks) ? reg.Checks : [])];
  for (const c of checks) {
    if (c && typeof c === 'object') for (const k of CHECK_CONFIG_ONLY) delete (c as Tree)[k];
  }
  const sidecar = (reg.Connect as Tree | undefined)?.SidecarService;
  if (sidecar && typeof sidecar === 'object') dropConfigOnly(sidecar as Tree);
}

/** Converts one decoded service definition (snake_case from HCL, any case from JSON) to a registration. */
export function serviceToRegistration(def: Tree): AgentServiceRegistration {
  const reg = translate(def, 'service') as Tree;
  dropConfigOnly(reg);
  return reg as AgentServiceRegistration;
}

/** Reads every service defined in the given files (or directories), in order; throws with Consul's config errors. */
export async function servicesFromFiles(files: string[], cwd: string = process.cwd()): Promise<AgentServiceRegistration[]> {
  const out: AgentServiceRegistration[] = [];
  const warnings: string[] = [];
  for (const file of files) {
    for (const src of await sourcesFromPath(file, cwd, undefined, warnings)) {
      const parsed = parseSource(src);
      const services = (parsed?.tree.services as Tree[] | undefined) ?? [];
      out.push(...services.map(serviceToRegistration));
    }
  }
  return out;
}
