// Settings of `proconsul snapshot agent`: Consul Enterprise's defaults, then the `snapshot_agent`
// objects of -config-file/-config-dir files in order (JSON as Consul reads them; HCL `.hcl` files
// too, an extension), then flags given on the command line. One table maps each setting to its
// flag and config-file key, so the two can never disagree.
import fs from 'node:fs';
import path from 'node:path';
import { ConsulClient, readTokenFile } from '../api/index.ts';
import { parseGoDuration } from '../duration.ts';
import { parseHclText } from '../hcl.ts';
import type { FlagDef, ParsedFlags } from './flags.ts';

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
  /** Where snapshots are written before a remote backend takes them ('' = the system temp dir). */
  localScratchPath: string;
  logLevel: string;
  http: { address?: string; token?: string; tokenFile?: string; datacenter?: string; caFile?: string; caPath?: string; clientCert?: string; clientKey?: string; serverName?: string };
  /** `login`: an auth method to get the agent's token from (Consul Enterprise: kubernetes). */
  login: { authMethod: string; bearerToken: string; bearerTokenFile: string; meta: Record<string, string> };
  /** `aws_storage`: S3 storage is on when s3Bucket is set. */
  aws: {
    accessKeyId: string; secretAccessKey: string; sessionToken: string; iamEndpoint: string;
    roleArn: string; roleSessionName: string; webIdentityTokenFile: string; stsEndpoint: string;
    s3Region: string; s3Bucket: string; s3KeyPrefix: string; s3Endpoint: string; s3ServerSideEncryption: boolean;
    s3StaticSnapshotName: string; s3ForcePathStyle: boolean; s3EnableKms: boolean; s3KmsKey: string;
  };
}

/** Consul Enterprise's defaults. */
export function defaultSettings(): SnapshotAgentSettings {
  return {
    interval: 3_600_000, retain: 30, stale: false, service: 'consul-snapshot', deregisterAfter: 72 * 3_600_000,
    lockKey: 'consul-snapshot/lock', maxFailures: 3, localPath: '.', localScratchPath: '', logLevel: 'INFO', http: {},
    login: { authMethod: '', bearerToken: '', bearerTokenFile: '', meta: {} },
    aws: {
      accessKeyId: '', secretAccessKey: '', sessionToken: '', iamEndpoint: '', roleArn: '', roleSessionName: '',
      webIdentityTokenFile: '', stsEndpoint: '', s3Region: '', s3Bucket: '', s3KeyPrefix: 'consul-snapshot', s3Endpoint: '',
      s3ServerSideEncryption: false, s3StaticSnapshotName: '', s3ForcePathStyle: false, s3EnableKms: false, s3KmsKey: '',
    },
  };
}

type Kind = 'duration' | 'int' | 'bool' | 'string';
type S = SnapshotAgentSettings;
type AwsKey = keyof S['aws'];

/** One setting: its flag (without '-'), its key in the `snapshot_agent` object, and where it goes. */
interface Entry {
  flag: string;
  key: string;
  kind: Kind;
  usage: string;
  set(s: S, v: string | number | boolean): void;
}

const entry = (flag: string, key: string, kind: Kind, usage: string, set: Entry['set']): Entry => ({ flag, key, kind, usage, set });
const aws = (field: AwsKey, key: string, kind: 'string' | 'bool', usage: string): Entry =>
  entry(`aws-${key.replace(/_/g, '-')}`, `aws_storage.${key}`, kind, usage, (s, v) => { (s.aws as Record<AwsKey, unknown>)[field] = v; });

/** The settings with a flag and a config-file key (HTTP API flags are the shared ones). */
const ENTRIES: Entry[] = [
  entry('interval', 'snapshot.interval', 'duration', 'Interval at which to perform snapshots as a time with a unit suffix ("s", "m", "h"). If 0 is provided, the agent will take a single snapshot and then exit. Defaults to "1h".', (s, v) => { s.interval = v as number; }),
  entry('retain', 'snapshot.retain', 'int', 'Number of snapshots to retain; after each snapshot the oldest beyond it are deleted. 0 keeps them all. Defaults to 30.', (s, v) => { s.retain = v as number; }),
  entry('lock-key', 'snapshot.lock_key', 'string', 'The KV key used to elect one active agent among several; all instances must use the same one. Defaults to "consul-snapshot/lock".', (s, v) => { s.lockKey = v as string; }),
  entry('max-failures', 'snapshot.max_failures', 'int', 'Number of snapshot failures after which the snapshot agent gives up leadership. Defaults to 3.', (s, v) => { s.maxFailures = v as number; }),
  entry('service', 'snapshot.service', 'string', 'The service name used when registering the agent with Consul. Defaults to "consul-snapshot".', (s, v) => { s.service = v as string; }),
  entry('deregister-after', 'snapshot.deregister_after', 'duration', 'Deregister the agent\'s service after it has been critical this long; 0 disables it. Defaults to "72h".', (s, v) => { s.deregisterAfter = v as number; }),
  entry('local-scratch-path', 'snapshot.local_scratch_path', 'string', 'Location to store temporary snapshots before sending them to a remote storage backend. Defaults to the system temporary directory; local storage uses -local-path.', (s, v) => { s.localScratchPath = v as string; }),
  entry('local-path', 'local_storage.path', 'string', 'Directory to store snapshots in when no remote storage is configured. Defaults to "." (the current directory).', (s, v) => { s.localPath = v as string; }),
  entry('login-auth-method', 'login.auth_method', 'string', 'Auth method to log in to Consul with; the token it grants is used instead of a static token.', (s, v) => { s.login.authMethod = v as string; }),
  entry('login-bearer-token', 'login.bearer_token', 'string', 'Bearer token to log in with. Used only with -login-auth-method.', (s, v) => { s.login.bearerToken = v as string; }),
  entry('login-bearer-token-file', 'login.bearer_token_file', 'string', 'File containing the bearer token to log in with; -login-bearer-token is ignored when this is given.', (s, v) => { s.login.bearerTokenFile = v as string; }),
  entry('log-level', 'log.level', 'string', 'Log verbosity: "trace", "debug", "info", "warn", "error". Defaults to "info".', (s, v) => { s.logLevel = v as string; }),
  aws('accessKeyId', 'access_key_id', 'string', 'Static AWS access key ID for S3 (also AWS_ACCESS_KEY_ID, the shared credentials file, ECS or EC2 role metadata).'),
  aws('secretAccessKey', 'secret_access_key', 'string', 'Static AWS secret access key for S3 (also AWS_SECRET_ACCESS_KEY).'),
  aws('sessionToken', 'session_token', 'string', 'AWS session token for temporary static credentials (also AWS_SESSION_TOKEN).'),
  aws('iamEndpoint', 'iam_endpoint', 'string', 'IAM endpoint to use with static credentials (accepted; not used by this implementation).'),
  aws('roleArn', 'role_arn', 'string', 'IAM role to assume through STS (also AWS_ROLE_ARN).'),
  aws('roleSessionName', 'role_session_name', 'string', 'Session name when assuming the role (also AWS_ROLE_SESSION_NAME).'),
  aws('webIdentityTokenFile', 'web_identity_token_file', 'string', 'Web identity token file used to assume the role (also AWS_WEB_IDENTITY_TOKEN_FILE).'),
  aws('stsEndpoint', 'sts_endpoint', 'string', 'STS endpoint used to obtain temporary credentials. Defaults to the regional STS endpoint.'),
  aws('s3Bucket', 's3_bucket', 'string', 'S3 bucket to store snapshots in (the bucket name only). Setting it disables local storage.'),
  aws('s3KeyPrefix', 's3_key_prefix', 'string', 'Prefix of the snapshot object keys. Defaults to "consul-snapshot".'),
  aws('s3Region', 's3_region', 'string', 'S3 region. Required for S3 storage.'),
  aws('s3Endpoint', 's3_endpoint', 'string', 'S3 endpoint, for any S3-compatible server (also AWS_S3_ENDPOINT). Defaults to the regional AWS endpoint.'),
  aws('s3ServerSideEncryption', 's3_server_side_encryption', 'bool', 'Save snapshots with S3-managed server-side encryption (AES256).'),
  aws('s3StaticSnapshotName', 's3_static_snapshot_name', 'string', 'Save every snapshot under this one key and never rotate them (rely on bucket versioning).'),
  aws('s3ForcePathStyle', 's3_force_path_style', 'bool', 'Use path-style addressing (endpoint/bucket/key) instead of virtual-hosted buckets, as MinIO and other S3-compatible servers need.'),
  aws('s3EnableKms', 's3_enable_kms', 'bool', 'Encrypt snapshots with AWS KMS (server-side encryption aws:kms).'),
  aws('s3KmsKey', 's3_kms_key', 'string', 'KMS key ID to encrypt with; the default KMS key when empty.'),
];

/** The flags of the settings table, for the command's flag list. */
export const SETTINGS_FLAGS: FlagDef[] = [
  ...ENTRIES.map((e): FlagDef => ({ name: e.flag, kind: e.kind === 'duration' ? 'string' : e.kind, usage: e.usage })),
  { name: 'login-meta', kind: 'list', usage: 'Metadata to set on the login token, formatted as key=value. This flag may be provided multiple times.' },
];

type Obj = Record<string, unknown>;
// HCL yields each block as a list of objects: merge them.
const obj = (v: unknown): Obj => {
  if (Array.isArray(v)) return Object.assign({}, ...v.map(obj)) as Obj;
  return v && typeof v === 'object' ? v as Obj : {};
};

/** Converts a file or flag value of a setting; throws a message naming it. */
function convert(e: Entry, v: unknown, name: string): string | number | boolean {
  const bad = (): Error => new Error(`Invalid ${name} ${JSON.stringify(v)}`);
  switch (e.kind) {
    case 'duration': {
      const ms = typeof v === 'number' ? v : parseGoDuration(String(v));
      if (ms === null || ms < 0) throw bad();
      return ms;
    }
    case 'int': {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw bad();
      return n;
    }
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw bad();
    default:
      if (typeof v !== 'string') throw bad();
      return v;
  }
}

const HTTP_KEYS = [['http_addr', 'address'], ['token', 'token'], ['datacenter', 'datacenter'], ['ca_file', 'caFile'], ['ca_path', 'caPath'], ['cert_file', 'clientCert'], ['key_file', 'clientKey'], ['tls_server_name', 'serverName']] as const;

/** Applies one file's `snapshot_agent` object. */
function applyFile(s: S, sa: Obj): void {
  for (const e of ENTRIES) {
    const [section, key] = e.key.split('.');
    const v = obj(sa[section])[key];
    // Empty strings are the documented "unset" defaults of the file format.
    if (v === undefined || v === '') continue;
    e.set(s, convert(e, v, e.key.replace('.', ' ')));
  }
  if (obj(sa.snapshot).stale !== undefined) s.stale = obj(sa.snapshot).stale === true;
  for (const [k, v] of Object.entries(obj(obj(sa.login).meta))) s.login.meta[k] = String(v);
  for (const [k, field] of HTTP_KEYS) if (typeof sa[k] === 'string' && sa[k]) s.http[field] = sa[k];
  for (const remote of ['azure_blob_storage', 'google_storage']) {
    if (Object.values(obj(sa[remote])).some((v) => v !== '' && v !== false && v !== undefined)) {
      throw new Error(`${remote} is not supported; use local_storage or aws_storage`);
    }
  }
}

/** Config files named by -config-file and, sorted, the `.json` (and `.hcl`) files of each -config-dir. */
function configFiles(flags: ParsedFlags): string[] {
  const files = [...(flags.values['config-file'] as string[] ?? [])];
  for (const dir of flags.values['config-dir'] as string[] ?? []) {
    for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.json') || f.endsWith('.hcl')) files.push(path.join(dir, f));
  }
  return files;
}

/** Parses a config file as JSON, or as HCL when it ends in `.hcl`. */
function readConfigFile(file: string): Obj {
  const text = fs.readFileSync(file, 'utf8');
  try {
    if (!file.endsWith('.hcl')) return obj(JSON.parse(text));
    const json = parseHclText(text);
    if (json.startsWith('unable to')) throw new Error(json);
    return obj(JSON.parse(json));
  } catch (err) {
    throw new Error(`failed to parse ${file}: ${(err as Error).message}`);
  }
}

/** Resolves settings from defaults, config files and flags; throws with a message for the user. */
export function resolveSettings(flags: ParsedFlags): SnapshotAgentSettings {
  const s = defaultSettings();
  const files = configFiles(flags);
  let found = files.length === 0;
  for (const f of files) {
    const doc = readConfigFile(f);
    if (doc.snapshot_agent === undefined) continue;
    found = true;
    applyFile(s, obj(doc.snapshot_agent));
  }
  if (!found) throw new Error('No snapshot_agent object found in the config files');
  for (const e of ENTRIES) if (flags.given.has(e.flag)) e.set(s, convert(e, flags.values[e.flag], `-${e.flag}`));
  if (flags.given.has('stale')) s.stale = flags.values.stale === true;
  for (const kv of flags.values['login-meta'] as string[] ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`Invalid -login-meta ${JSON.stringify(kv)}: expected key=value`);
    s.login.meta[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  for (const [flag, field] of [['http-addr', 'address'], ['token', 'token'], ['token-file', 'tokenFile'], ['datacenter', 'datacenter'], ['ca-file', 'caFile'], ['ca-path', 'caPath'], ['client-cert', 'clientCert'], ['client-key', 'clientKey'], ['tls-server-name', 'serverName']] as const) {
    if (flags.given.has(flag)) s.http[field] = String(flags.values[flag]);
  }
  if (s.aws.s3Bucket && !s.aws.s3Region) throw new Error('S3 storage needs a region: set -aws-s3-region or aws_storage s3_region');
  return s;
}

/**
 * The API client for the settings; CONSUL_HTTP_* variables fill what neither file nor flag set.
 * `loginToken`, from an auth-method login, replaces any configured token.
 */
export function settingsClient(s: SnapshotAgentSettings, env: NodeJS.ProcessEnv, loginToken?: string): ConsulClient {
  const { address, token, tokenFile, datacenter, ...tls } = s.http;
  if (loginToken) return new ConsulClient({ address, token: loginToken, datacenter, tls, env });
  // As the other commands: a token file (flag or CONSUL_HTTP_TOKEN_FILE) beats any token.
  const file = tokenFile ?? env.CONSUL_HTTP_TOKEN_FILE;
  const fromFile = file ? readTokenFile(file) : '';
  return new ConsulClient({ address, token: fromFile || token, datacenter, tls, env });
}
