// Turning the merged configuration tree into RuntimeConfig: typed values, resolved addresses,
// the store backend, and Consul's semantic validation (validation.ts).
import { ConfigError, multiError } from './error.ts';
import type { Interfaces } from './addresses.ts';
import type { ConfigTree } from './merge.ts';
import { readNetwork } from './network.ts';
import { readGossip, readGossipWan } from './gossip.ts';
import type { RuntimeConfig } from './runtime.ts';
import { readTls } from './tls.ts';
import { readHttpConfig } from './http-config.ts';
import { readUiConfig, validateUiConfig } from './ui-config.ts';
import { readAutoEncrypt, type AutoEncryptConfig } from './auto-encrypt.ts';
import { readBootstrapEntries } from './config-entries.ts';
import { validateRuntime } from './validation.ts';
import { TreeReader } from './values.ts';
import { CAConfigError, parseCommonCAConfig, translateCAConfigKeys } from '../../connect/index.ts';

/** Inputs besides the tree. */
export interface BuildContext {
  dev: boolean;
  hostname: string;
  interfaces: Interfaces;
}

/** RuntimeConfig before the node ID and source list are filled in by the loader. */
export type BuiltConfig = Omit<RuntimeConfig, 'nodeId' | 'sources' | 'configPaths'> & { nodeIdConfigured: string };

const LOG_LEVELS: Record<string, RuntimeConfig['logLevel']> = {
  trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', err: 'error', error: 'error',
};

function readLogLevel(r: TreeReader): RuntimeConfig['logLevel'] {
  const raw = r.str('log_level', 'INFO');
  const level = LOG_LEVELS[raw.toLowerCase()];
  if (!level) throw new ConfigError(`Invalid log level: ${JSON.stringify(raw)}. Valid log levels are: [TRACE DEBUG INFO WARN ERR]`);
  return level;
}

/** log_sublevels: each subsystem's level, checked as log_level is. */
function readLogSublevels(r: TreeReader): Record<string, RuntimeConfig['logLevel']> {
  const out: Record<string, RuntimeConfig['logLevel']> = {};
  for (const [name, raw] of Object.entries(r.stringMap('log_sublevels'))) {
    const level = LOG_LEVELS[raw.toLowerCase()];
    if (!level) throw new ConfigError(`Invalid log level: ${JSON.stringify(raw)}. Valid log levels are: [TRACE DEBUG INFO WARN ERR]`);
    out[name] = level;
  }
  return out;
}

/** Parses `memory`, `embedded`, `managed` or `etcd://h1:p1,h2:p2` (Proconsul's `store` key / -store flag). */
export function readStore(value: string, dev: boolean): RuntimeConfig['store'] {
  const v = value || (dev ? 'memory' : 'embedded');
  if (v === 'memory' || v === 'embedded' || v === 'managed') return { backend: v };
  const m = /^etcd:\/\/(.+)$/.exec(v);
  const endpoints = m ? m[1].split(',').map((e) => e.trim()).filter(Boolean) : [];
  if (endpoints.length === 0 || endpoints.some((e) => !/^[^\s/:]+:\d+$/.test(e))) {
    throw new ConfigError(`store: invalid value ${JSON.stringify(value)}: must be memory, embedded, managed or etcd://host:port[,host:port...]`);
  }
  return { backend: 'etcd', etcd: { endpoints: endpoints.map((e) => `http://${e}`) } };
}

/**
 * The managed etcd member (`store = "managed"`, the default for a server with a data dir and
 * bootstrap_expect > 1): binary and client/peer ports from `managed_etcd`, else etcd on PATH
 * and the server port + 10 / + 11.
 */
function managedStore(r: TreeReader, g: ReturnType<typeof readGeneral>, serverPort: number): RuntimeConfig['store'] {
  const byDefault = r.str('store') === '' && g.server && g.dataDir !== null && g.bootstrapExpect > 1;
  if (g.store.backend !== 'managed' && !byDefault) return g.store;
  if (!g.server) r.errors.push('store = "managed" requires server = true');
  if (g.dataDir === null) r.errors.push('store = "managed" requires a data_dir');
  return {
    backend: 'managed',
    managed: {
      binary: r.str('managed_etcd.binary', 'etcd'),
      clientPort: r.int('managed_etcd.client_port', serverPort + 10), peerPort: r.int('managed_etcd.peer_port', serverPort + 11),
    },
  };
}

function readAcl(r: TreeReader): RuntimeConfig['acl'] {
  const policy = r.str('acl.default_policy', 'allow');
  if (policy !== 'allow' && policy !== 'deny') {
    throw new ConfigError(`acl.default_policy must be "allow" or "deny", got ${JSON.stringify(policy)}`);
  }
  const t = (k: string) => r.str(`acl.tokens.${k}`);
  return {
    enabled: r.bool('acl.enabled'), defaultPolicy: policy, downPolicy: r.str('acl.down_policy', 'extend-cache'),
    tokens: {
      initialManagement: t('initial_management'), agent: t('agent'), agentRecovery: t('agent_recovery'),
      default: t('default'), replication: t('replication'),
      configFileServiceRegistration: t('config_file_service_registration'), dns: t('dns'),
    },
  };
}

function readConnect(r: TreeReader, autoEncrypt: AutoEncryptConfig): RuntimeConfig['connect'] {
  const caProvider = r.str('connect.ca_provider');
  if (!['', 'consul', 'vault', 'aws-pca'].includes(caProvider)) throw new ConfigError(`${caProvider} is not a valid CA provider`);
  const rawCaConfig = r.get('connect.ca_config');
  const caConfig = translateCAConfigKeys(typeof rawCaConfig === 'object' && rawCaConfig !== null ? rawCaConfig as Record<string, unknown> : {});
  // Like Consul's builder, only an explicitly named provider's config is checked at start-up; with
  // ca_provider unset the leader refuses it when it initializes the CA (leader/ca.ts).
  if (caProvider !== '') {
    try {
      parseCommonCAConfig(caProvider, caConfig);
    } catch (err) {
      throw err instanceof CAConfigError ? new ConfigError(err.message) : err;
    }
  }
  // A server signing auto_encrypt requests needs the Connect CA: allow_tls turns Connect on.
  return { enabled: r.bool('connect.enabled') || autoEncrypt.allowTls, caProvider, caConfig };
}

function readGeneral(r: TreeReader, ctx: BuildContext) {
  const dataDir = r.str('data_dir');
  const datacenter = r.str('datacenter').toLowerCase();
  return {
    dev: ctx.dev, server: r.bool('server'), bootstrap: r.bool('bootstrap'), bootstrapExpect: r.int('bootstrap_expect'),
    // Unset, the primary datacenter is this agent's own (Consul's builder), as /v1/agent/self reports it.
    datacenter, primaryDatacenter: r.str('primary_datacenter').toLowerCase() || datacenter,
    nodeName: r.str('node_name') || ctx.hostname, nodeIdConfigured: r.str('node_id'), nodeMeta: r.stringMap('node_meta'),
    partition: r.str('partition'),
    dataDir: ctx.dev || dataDir === '' ? null : dataDir, store: readStore(r.str('store'), ctx.dev),
    domain: r.str('domain', 'consul.'), altDomain: r.str('alt_domain'), logLevel: readLogLevel(r), logSublevels: readLogSublevels(r),
    logJson: r.bool('log_json'), logFile: r.str('log_file'), pidFile: r.str('pid_file'),
    logRotate: { bytes: r.int('log_rotate_bytes'), durationMs: r.durationMs('log_rotate_duration'), maxFiles: r.int('log_rotate_max_files') },
    uiEnabled: r.bool('ui_config.enabled'), translateWanAddrs: r.bool('translate_wan_addrs'),
    defaultQueryTime: r.durationMs('default_query_time', 300_000), maxQueryTime: r.durationMs('max_query_time', 600_000),
    rpcHoldTimeout: r.durationMs('performance.rpc_hold_timeout', 7_000), leaveDrainTime: r.durationMs('performance.leave_drain_time', 5_000), discoveryMaxStale: r.durationMs('discovery_max_stale'),
    // Consul's agent applies its 10s session TTL floor when session_ttl_min is unset.
    sessionTtlMin: r.durationMs('session_ttl_min') || 10_000, serverRejoinAgeMax: readRejoinAgeMax(r),
  };
}

/** Builds and validates; value errors are reported together in go-multierror form. */
export function buildRuntime(tree: ConfigTree, valueErrors: string[], ctx: BuildContext): { built: BuiltConfig; warnings: string[] } {
  const r = new TreeReader(tree);
  r.errors.push(...valueErrors);
  const general = readGeneral(r, ctx);
  const network = readNetwork(r, ctx.interfaces);
  const autoEncrypt = readAutoEncrypt(r);
  const built: BuiltConfig = {
    ...general, ...network, store: managedStore(r, general, network.ports.server), acl: readAcl(r), connect: readConnect(r, autoEncrypt),
    autoEncrypt, configEntriesBootstrap: readBootstrapEntries(r),
    limits: {
      kvMaxValueSize: r.int('limits.kv_max_value_size', 524288), txnMaxReqLen: r.int('limits.txn_max_req_len', 524288),
      httpMaxConnsPerClient: r.int('limits.http_max_conns_per_client', 200),
      httpsHandshakeTimeout: r.durationMs('limits.https_handshake_timeout', 5_000),
      requestLimits: readRequestLimits(r),
      rpcRate: typeof r.get('limits.rpc_rate') === 'number' ? r.get('limits.rpc_rate') as number : -1,
      rpcMaxBurst: r.int('limits.rpc_max_burst', 1000),
      rpcHandshakeTimeout: r.durationMs('limits.rpc_handshake_timeout', 5_000), rpcClientTimeout: r.durationMs('limits.rpc_client_timeout', 60_000),
    },
    cache: readCacheOptions(r),
    http: readHttpConfig(r),
    ui: readUiConfig(r),
    gossip: readGossip(r, network.bindAddr, network.ports.serfLan, r.bool('server')),
    gossipWan: readGossipWan(r, network.bindAddr, network.advertiseAddrWan, network.ports.serfWan, r.bool('server')),
    tls: readTls(r, { server: general.server, nodeName: general.nodeName, domain: general.domain }),
    autoReloadConfig: r.bool('auto_reload_config'), locality: readLocality(r),
    raw: tree,
  };
  validateUiConfig(built.ui!);
  validateRuntime(built, r);
  if (r.errors.length > 0) throw new ConfigError(multiError(r.errors));
  return { built, warnings: r.warnings };
}

/** locality { region zone } as Consul's StructLocality, empty parts left out; undefined when unset or empty. */
function readLocality(r: TreeReader): RuntimeConfig['locality'] {
  const region = r.str('locality.region');
  const zone = r.str('locality.zone');
  if (!region && !zone) return undefined;
  return { ...(region ? { Region: region } : {}), ...(zone ? { Zone: zone } : {}) };
}

const REQUEST_LIMIT_MODES = new Set(['disabled', 'permissive', 'enforcing']);

/** server_rejoin_age_max (default 7 days); under 6 hours is a build error, as Consul's durationValWithDefaultMin. */
function readRejoinAgeMax(r: TreeReader): number {
  const ms = r.durationMs('server_rejoin_age_max', 168 * 3_600_000);
  if (ms < 6 * 3_600_000) r.errors.push(`server_rejoin_age_max: duration '${String(r.get('server_rejoin_age_max'))}' cannot be less than: 6h0m0s`);
  return ms;
}

/** The agent cache's per-entry fetch limit; zero or less fails as Consul's builder does. */
function readCacheOptions(r: TreeReader): { rate: number; maxBurst: number } {
  const raw = r.get('cache.entry_fetch_rate');
  const rate = typeof raw === 'number' ? raw : Infinity;
  const maxBurst = r.int('cache.entry_fetch_max_burst', 2);
  if (maxBurst <= 0) throw new ConfigError(`cache.entry_fetch_max_burst must be strictly positive, was: ${maxBurst}`);
  if (rate <= 0) throw new ConfigError(`cache.entry_fetch_rate must be strictly positive, was: ${rate}`);
  return { rate, maxBurst };
}

/** limits.request_limits as Consul's builder reads it: an unknown mode is an error; '' is disabled. */
function readRequestLimits(r: TreeReader): NonNullable<BuiltConfig['limits']['requestLimits']> {
  const mode = r.str('limits.request_limits.mode', 'disabled');
  if (mode !== '' && !REQUEST_LIMIT_MODES.has(mode)) r.errors.push(`limits.request_limits.mode: invalid mode: ${JSON.stringify(mode)}`);
  const rate = (key: string): number => {
    const v = r.get(`limits.request_limits.${key}`);
    return typeof v === 'number' ? v : -1;
  };
  return {
    mode: REQUEST_LIMIT_MODES.has(mode) ? mode as 'disabled' | 'permissive' | 'enforcing' : 'disabled',
    readRate: rate('read_rate'), writeRate: rate('write_rate'),
  };
}
