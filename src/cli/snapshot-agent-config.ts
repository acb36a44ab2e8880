// Settings of `proconsul snapshot agent`: Consul Enterprise's defaults, then the
// `snapshot_agent` objects of -config-file/-config-dir JSON files in order, then flags given on
// the command line. Only local storage exists so far; cloud storage settings are refused.
import fs from 'node:fs';
import path from 'node:path';
import { ConsulClient } from '../api/index.ts';
import { parseGoDuration } from '../duration.ts';
import type { ParsedFlags } from './flags.ts';

/** Everything the snapshot agent runs with (durations in milliseconds). */
export interface SnapshotAgentSettings {
  /** 0 takes one snapshot and exits. */
  interval: number;
  /** Snapshots kept after each save; 0 keeps all. */
  retain: number;
  stale: boolean;
  service: string;
  /** DeregisterCriticalServiceAfter of the agent's checks; 0 disables it. */
  deregisterAfter: number;
  lockKey: string;
  /** Failed saves in a row after which leadership is given up. */
  maxFailures: number;
  localPath: string;
  logLevel: string;
  http: { address?: string; token?: string; datacenter?: string; caFile?: string; caPath?: string; clientCert?: string; clientKey?: string; serverName?: string };
}

/** Consul Enterprise's defaults. */
export function defaultSettings(): SnapshotAgentSettings {
  return {
    interval: 3_600_000, retain: 30, stale: false, service: 'consul-snapshot', deregisterAfter: 72 * 3_600_000,
    lockKey: 'consul-snapshot/lock', maxFailures: 3, localPath: '.', logLevel: 'INFO', http: {},
  };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? v as Obj : {});

function duration(v: unknown, name: string): number {
  const ms = typeof v === 'number' ? v : parseGoDuration(String(v));
  if (ms === null || ms < 0) throw new Error(`Invalid ${name} ${JSON.stringify(v)}`);
  return ms;
}

/** Applies one file's `snapshot_agent` object. */
function applyFile(s: SnapshotAgentSettings, sa: Obj): void {
  const snap = obj(sa.snapshot);
  const str = (o: Obj, k: string): string | undefined => (typeof o[k] === 'string' ? o[k] as string : undefined);
  if (snap.interval !== undefined) s.interval = duration(snap.interval, 'interval');
  if (snap.retain !== undefined) s.retain = Number(snap.retain);
  if (snap.stale !== undefined) s.stale = snap.stale === true;
  if (snap.deregister_after !== undefined) s.deregisterAfter = duration(snap.deregister_after, 'deregister_after');
  if (snap.max_failures !== undefined) s.maxFailures = Number(snap.max_failures);
  s.service = str(snap, 'service') || s.service;
  s.lockKey = str(snap, 'lock_key') || s.lockKey;
  s.localPath = str(obj(sa.local_storage), 'path') || s.localPath;
  s.logLevel = str(obj(sa.log), 'level') || s.logLevel;
  for (const [k, field] of [['http_addr', 'address'], ['token', 'token'], ['datacenter', 'datacenter'], ['ca_file', 'caFile'], ['ca_path', 'caPath'], ['cert_file', 'clientCert'], ['key_file', 'clientKey'], ['tls_server_name', 'serverName']] as const) {
    if (str(sa, k)) s.http[field] = str(sa, k);
  }
  for (const remote of ['aws_storage', 'azure_blob_storage', 'google_storage']) {
    if (Object.values(obj(sa[remote])).some((v) => v !== '' && v !== false && v !== undefined)) {
      throw new Error(`${remote} is not supported yet; use local_storage`);
    }
  }
}

/** The JSON files named by -config-file and (sorted, `.json` only) in -config-dir. */
function configFiles(flags: ParsedFlags): string[] {
  const files = [...(flags.values['config-file'] as string[] ?? [])];
  for (const dir of flags.values['config-dir'] as string[] ?? []) {
    for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.json')) files.push(path.join(dir, f));
  }
  return files;
}

/** Resolves settings from defaults, config files and flags; throws with a message for the user. */
export function resolveSettings(flags: ParsedFlags): SnapshotAgentSettings {
  const s = defaultSettings();
  const files = configFiles(flags);
  let found = files.length === 0;
  for (const f of files) {
    const doc = obj(JSON.parse(fs.readFileSync(f, 'utf8')));
    if (doc.snapshot_agent === undefined) continue;
    found = true;
    applyFile(s, obj(doc.snapshot_agent));
  }
  if (!found) throw new Error('No snapshot_agent object found in the config files');
  const given = (n: string): boolean => flags.given.has(n);
  const v = flags.values;
  if (given('interval')) s.interval = duration(v.interval, 'interval');
  if (given('retain')) s.retain = Number(v.retain);
  if (given('stale')) s.stale = v.stale === true;
  if (given('service')) s.service = String(v.service);
  if (given('deregister-after')) s.deregisterAfter = duration(v['deregister-after'], 'deregister-after');
  if (given('lock-key')) s.lockKey = String(v['lock-key']);
  if (given('max-failures')) s.maxFailures = Number(v['max-failures']);
  if (given('local-path')) s.localPath = String(v['local-path']);
  if (given('log-level')) s.logLevel = String(v['log-level']);
  for (const [flag, field] of [['http-addr', 'address'], ['token', 'token'], ['datacenter', 'datacenter'], ['ca-file', 'caFile'], ['ca-path', 'caPath'], ['client-cert', 'clientCert'], ['client-key', 'clientKey'], ['tls-server-name', 'serverName']] as const) {
    if (given(flag)) s.http[field] = String(v[flag]);
  }
  return s;
}

/** The API client for the settings; CONSUL_HTTP_* variables fill what neither file nor flag set. */
export function settingsClient(s: SnapshotAgentSettings, env: NodeJS.ProcessEnv): ConsulClient {
  const { address, token, datacenter, ...tls } = s.http;
  return new ConsulClient({ address, token, datacenter, tls, env });
}
