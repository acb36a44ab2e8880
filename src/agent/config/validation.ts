// Semantic validation of the built configuration, in the order and words of Consul's
// builder.validate: fatal mistakes throw, soft ones become warnings.
import { statSync } from 'node:fs';
import type { BuiltConfig } from './build.ts';
import type { ListenAddr } from './runtime.ts';
import { ConfigError } from './error.ts';
import type { TreeReader } from './values.ts';
import { validateAutoEncrypt } from './auto-encrypt.ts';
import { auditSettings } from '../audit-config.ts';
import { joinHostPort } from '../../host-port.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName, validTenancyName } from '../../state/tenancy.ts';
import { fold, type Folded } from '../local/decode-keys.ts';

const BASIC_NAME = /^[a-z0-9_-]+$/;
const DNS_INVALID = /[^A-Za-z0-9\\-]+/;

/** Consul's validateBasicName. */
export function validateBasicName(field: string, value: string, allowEmpty: boolean): void {
  if (value === '') {
    if (allowEmpty) return;
    throw new ConfigError(`${field} cannot be empty`);
  }
  if (!BASIC_NAME.test(value)) {
    throw new ConfigError(`${field} can only contain lowercase alphanumeric, - or _ characters. received: ${JSON.stringify(value)}`);
  }
}

function validateRequired(c: BuiltConfig, r: TreeReader): void {
  const raft = r.int('raft_protocol', 3);
  if (raft !== 3) throw new ConfigError(`raft_protocol version ${raft} is not supported by this version of Consul`);
  validateBasicName('datacenter', c.datacenter, false);
  if (c.dataDir === null && !c.dev) throw new ConfigError('data_dir cannot be empty');
  if (c.dataDir !== null && !c.dev) {
    try {
      if (!statSync(c.dataDir).isDirectory()) throw new ConfigError(`data_dir ${JSON.stringify(c.dataDir)} is not a directory`);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new ConfigError(`Error getting info on data_dir: ${(err as Error).message}`);
    }
  }
}

function validateNodeName(c: BuiltConfig, r: TreeReader): void {
  if (c.nodeName === '') throw new ConfigError('node_name cannot be empty');
  // Admin partition names are DNS labels; servers are in the default partition (Consul Enterprise).
  const ap = c.partition ?? '';
  if (ap !== '' && !validTenancyName(ap)) throw new ConfigError(`partition ${JSON.stringify(ap)} must be a valid DNS hostname label`);
  if (c.server && ap !== '' && foldTenancyName(ap) !== DEFAULT_TENANCY_NAME) {
    throw new ConfigError(`partition ${JSON.stringify(ap)}: servers must be in the "default" admin partition`);
  }
  if (DNS_INVALID.test(c.nodeName)) {
    r.warnings.push(`Node name ${JSON.stringify(c.nodeName)} will not be discoverable via DNS due to invalid characters. Valid characters include all alpha-numerics and dashes.`);
  } else if (c.nodeName.length > 63) {
    r.warnings.push(`Node name ${JSON.stringify(c.nodeName)} will not be discoverable via DNS due to it being too long. Valid lengths are between 1 and 63 bytes.`);
  }
}

/** A config value as a list of definitions (a list as is, a lone block as one), keys folded as the agent reads them. */
function definitions(v: unknown): Folded[] {
  const all = Array.isArray(v) ? v : [v];
  return all.filter((d) => typeof d === 'object' && d !== null && !Array.isArray(d)).map(fold);
}

/**
 * The `namespace` and `partition` of service and check definitions (a service's checks and
 * sidecar included, in any key spelling the agent accepts): namespace and partition names are DNS
 * labels, and a definition's partition is the agent's (local services live in the agent's partition).
 */
function validateDefinitionTenancy(c: BuiltConfig, r: TreeReader): void {
  const agentPartition = foldTenancyName(c.partition || DEFAULT_TENANCY_NAME);
  const name = (d: Folded, ...keys: string[]): string => {
    const v = keys.map((k) => d.get(k)).find((x) => typeof x === 'string');
    return JSON.stringify(v ?? '');
  };
  const vet = (what: string, d: Folded): void => {
    const ns = d.get('namespace');
    if (typeof ns === 'string' && ns !== '' && !validTenancyName(ns)) {
      throw new ConfigError(`${what}: namespace ${JSON.stringify(ns)} must be a valid DNS hostname label`);
    }
    const ap = d.get('partition');
    if (typeof ap !== 'string' || ap === '') return;
    if (!validTenancyName(ap)) throw new ConfigError(`${what}: partition ${JSON.stringify(ap)} must be a valid DNS hostname label`);
    if (foldTenancyName(ap) !== agentPartition) {
      throw new ConfigError(`${what}: partition ${JSON.stringify(ap)} is not the agent's partition ${JSON.stringify(agentPartition)}`);
    }
  };
  const service = (what: string, d: Folded): void => {
    vet(what, d);
    for (const chk of [...definitions(d.get('checks')), ...definitions(d.get('check'))]) vet(`${what}: check ${name(chk, 'id', 'checkid', 'name')}`, chk);
    for (const connect of definitions(d.get('connect'))) {
      for (const sidecar of definitions(connect.get('sidecarservice'))) service(`${what}: sidecar_service`, sidecar);
    }
  };
  for (const d of [...definitions(r.get('services')), ...definitions(r.get('service'))]) service(`service ${name(d, 'name')}`, d);
  for (const d of [...definitions(r.get('checks')), ...definitions(r.get('check'))]) vet(`check ${name(d, 'id', 'checkid', 'name')}`, d);
}

function validateAltDomain(c: BuiltConfig): void {
  if (c.altDomain === '') return;
  const first = c.altDomain.split('.')[0];
  if (['service', 'connect', 'node', 'query', 'addr', c.datacenter].includes(first)) {
    throw new ConfigError(`alt_domain cannot start with {service,connect,node,query,addr,${c.datacenter}}`);
  }
}

function validateBootstrap(c: BuiltConfig): void {
  if (c.bootstrap && !c.server) throw new ConfigError("'bootstrap = true' requires 'server = true'");
  if (c.bootstrapExpect < 0) throw new ConfigError(`bootstrap_expect cannot be ${c.bootstrapExpect}. Must be greater than or equal to zero`);
  if (c.bootstrapExpect > 0 && !c.server) throw new ConfigError("'bootstrap_expect > 0' requires 'server = true'");
  if (c.bootstrapExpect > 0 && c.dev) throw new ConfigError("'bootstrap_expect > 0' not allowed in dev mode");
  if (c.bootstrapExpect > 0 && c.bootstrap) throw new ConfigError("'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive");
}

function validateMisc(c: BuiltConfig, r: TreeReader): void {
  if (r.int('check_output_max_size', 4096) < 1) {
    throw new ConfigError('check_output_max_size must be positive, to discard check output use the discard_check_output flag');
  }
  for (const key of ['dns_config.udp_answer_limit', 'dns_config.a_record_limit']) {
    const n = r.int(key, 0);
    if (n < 0) throw new ConfigError(`${key} cannot be ${n}. Must be greater than or equal to zero`);
  }
  const mult = r.int('performance.raft_multiplier', 5);
  if (mult < 1 || mult > 10) throw new ConfigError(`performance.raft_multiplier cannot be ${mult}. Must be between 1 and 10`);
  validateBasicName('primary_datacenter', c.primaryDatacenter, true);
  if (!c.dev && c.uiEnabled && r.str('ui_config.dir') !== '') {
    throw new ConfigError('Both the ui_config.enabled and ui_config.dir (or -ui and -ui-dir) were specified, please provide only one.\n' +
      'If trying to use your own web UI resources, use ui_config.dir or the -ui-dir flag.\n' +
      'The web UI is included in the binary so use ui_config.enabled or the -ui flag to enable it');
  }
  const key = r.str('encrypt');
  if (key !== '' && ![16, 24, 32].includes(Buffer.from(key, 'base64').length)) {
    throw new ConfigError(`encrypt has invalid key: illegal base64 data or wrong key length`);
  }
}

function bootstrapWarnings(c: BuiltConfig, r: TreeReader): void {
  const see = 'See https://www.consul.io/docs/internals/consensus.html#deployment-table';
  if (c.server && !c.dev && !c.bootstrap && c.bootstrapExpect === 2) r.warnings.push(`bootstrap_expect = 2: A cluster with 2 servers will provide no failure tolerance. ${see}`);
  if (c.server && !c.bootstrap && c.bootstrapExpect > 2 && c.bootstrapExpect % 2 === 0) {
    r.warnings.push(`bootstrap_expect is even number: A cluster with an even number of servers does not achieve optimum fault tolerance. ${see}`);
  }
  if (c.server && c.bootstrap && c.bootstrapExpect === 0) r.warnings.push('bootstrap = true: do not enable unless necessary');
  if (c.server && !c.dev && !c.bootstrap && c.bootstrapExpect > 1) r.warnings.push(`bootstrap_expect > 0: expecting ${c.bootstrapExpect} servers`);
}

function addrKey(a: ListenAddr): [string, string] {
  if (a.kind === 'unix') return [`unix:${a.path}`, a.path];
  const shown = joinHostPort(a.host, a.port);
  return [`tcp:${shown}`, shown];
}

/** Consul's addrsUnique over the DNS, HTTP and HTTPS listeners: no address serves two of them. */
function validateListenersUnique(c: BuiltConfig): void {
  const inuse = new Map<string, string>();
  for (const [name, addrs] of [['DNS', c.dnsAddrs], ['HTTP', c.httpAddrs], ['HTTPS', c.httpsAddrs ?? []]] as const) {
    for (const a of addrs) {
      const [key, shown] = addrKey(a);
      const other = inuse.get(key);
      if (other !== undefined) throw new ConfigError(`${name} address ${shown} already configured for ${other}`);
      inuse.set(key, name);
    }
  }
}

/** Validates `c` in place (bootstrap_expect = 1 becomes bootstrap); throws the first fatal error. */
export function validateRuntime(c: BuiltConfig, r: TreeReader): void {
  // Consul's build step turns bootstrap_expect = 1 into bootstrap mode before validating.
  if (c.bootstrapExpect === 1) {
    c.bootstrap = true;
    c.bootstrapExpect = 0;
    r.warnings.push('BootstrapExpect is set to 1; this is the same as Bootstrap mode.');
  }
  validateRequired(c, r);
  validateNodeName(c, r);
  validateDefinitionTenancy(c, r);
  validateAltDomain(c);
  validateBootstrap(c);
  validateMisc(c, r);
  validateListenersUnique(c);
  bootstrapWarnings(c, r);
  if (c.autoEncrypt) validateAutoEncrypt({ ...c, autoEncrypt: c.autoEncrypt }, r);
  // Consul Enterprise wants ACLs with audit logging; without them the events cannot name the caller.
  if (auditSettings(r.get('audit')) && !c.acl.enabled) r.warnings.push('audit logging is enabled without ACLs: its events name no caller');
}
