// AWS credentials for the snapshot agent's S3 storage, from the sources Consul Enterprise
// documents, in its order: static keys (flags or config), the AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN variables, the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE), ECS task role
// metadata and EC2 instance role metadata (IMDSv2). A role ARN (flag, config or AWS_ROLE_ARN) is
// assumed through STS: with a web identity token file as AssumeRoleWithWebIdentity, otherwise as
// AssumeRole signed with the credentials above. Temporary credentials are refreshed before expiry.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AwsClient } from 'aws4fetch';

/** A credential set; `expires` (ms since epoch) for temporary ones. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expires?: number;
}

/** The settings that bear on credentials (the `aws_storage` object's names). */
export interface AwsCredentialSettings {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  roleArn: string;
  roleSessionName: string;
  webIdentityTokenFile: string;
  stsEndpoint: string;
  s3Region: string;
}

const ECS_HOST = 'http://169.254.170.2';
const IMDS_HOST = 'http://169.254.169.254';
const METADATA_TIMEOUT_MS = 1_000;
/** Temporary credentials are renewed this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/** Reads one profile of an INI credentials file; null when the file or profile is missing. */
export function parseCredentialsFile(text: string, profile: string): AwsCredentials | null {
  let current = '';
  const found: Record<string, string> = {};
  let seen = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+|\s+$/g, '');
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      current = section[1];
      seen ||= current === profile;
      continue;
    }
    const eq = line.indexOf('=');
    if (current === profile && eq > 0) found[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  if (!seen || !found.aws_access_key_id || !found.aws_secret_access_key) return null;
  return { accessKeyId: found.aws_access_key_id, secretAccessKey: found.aws_secret_access_key, sessionToken: found.aws_session_token || undefined };
}

/** Parses the JSON credentials of the ECS and EC2 metadata services. */
function fromMetadataJson(body: unknown, source: string): AwsCredentials {
  const b = body as Record<string, string>;
  if (!b?.AccessKeyId || !b.SecretAccessKey) throw new Error(`${source}: no credentials in the response`);
  return { accessKeyId: b.AccessKeyId, secretAccessKey: b.SecretAccessKey, sessionToken: b.Token, expires: b.Expiration ? Date.parse(b.Expiration) : undefined };
}

/** The text of an element of an STS XML answer. */
function xmlText(xml: string, tag: string): string {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&') : '';
}

/** Resolves and caches credentials for the S3 client. */
export class AwsCredentialChain {
  readonly #s: AwsCredentialSettings;
  readonly #env: NodeJS.ProcessEnv;
  readonly #fetch: typeof fetch;
  #cached: AwsCredentials | null = null;

  constructor(settings: AwsCredentialSettings, env: NodeJS.ProcessEnv, fetchFn: typeof fetch = fetch) {
    this.#s = settings;
    this.#env = env;
    this.#fetch = fetchFn;
  }

  /** Current credentials, fetching new ones when none are cached or they are about to expire. */
  async get(): Promise<AwsCredentials> {
    const c = this.#cached;
    if (c && (c.expires === undefined || c.expires - REFRESH_MARGIN_MS > Date.now())) return c;
    this.#cached = await this.#resolve();
    return this.#cached;
  }

  async #resolve(): Promise<AwsCredentials> {
    const s = this.#s;
    const env = this.#env;
    const roleArn = s.roleArn || env.AWS_ROLE_ARN || '';
    const tokenFile = s.webIdentityTokenFile || env.AWS_WEB_IDENTITY_TOKEN_FILE || '';
    if (roleArn && tokenFile) return this.#assumeWithWebIdentity(roleArn, tokenFile);
    const base = await this.#base();
    return roleArn ? this.#assumeRole(roleArn, base) : base;
  }

  /** Static keys, then the environment, the shared file, ECS and EC2 metadata. */
  async #base(): Promise<AwsCredentials> {
    const s = this.#s;
    const env = this.#env;
    if (s.accessKeyId && s.secretAccessKey) return { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, sessionToken: s.sessionToken || undefined };
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined };
    }
    const file = env.AWS_SHARED_CREDENTIALS_FILE || path.join(env.HOME || os.homedir(), '.aws', 'credentials');
    const text = await fs.readFile(file, 'utf8').catch(() => null);
    const shared = text === null ? null : parseCredentialsFile(text, env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default');
    if (shared) return shared;
    if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return this.#ecs();
    if ((env.AWS_EC2_METADATA_DISABLED || '').toLowerCase() !== 'true') {
      try {
        return await this.#imds();
      } catch (err) {
        throw new Error(`no AWS credentials found (static keys, environment, shared credentials file, ECS or EC2 metadata): ${(err as Error).message}`);
      }
    }
    throw new Error('no AWS credentials found (static keys, environment, shared credentials file, ECS or EC2 metadata)');
  }

  async #metadata(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await this.#fetch(url, { ...init, signal: AbortSignal.timeout(METADATA_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${res.statusText}`);
    return res;
  }

  async #ecs(): Promise<AwsCredentials> {
    const env = this.#env;
    const url = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ? `${ECS_HOST}${env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}` : env.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
    const token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
      ? (await fs.readFile(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, 'utf8')).trim()
      : env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
    const res = await this.#metadata(url, { headers: token ? { Authorization: token } : {} });
    return fromMetadataJson(await res.json(), 'ECS credentials');
  }

  /** EC2 instance role credentials through IMDSv2 (session token, role name, credentials). */
  async #imds(): Promise<AwsCredentials> {
    const base = (this.#env.AWS_EC2_METADATA_SERVICE_ENDPOINT || IMDS_HOST).replace(/\/+$/, '');
    const token = await (await this.#metadata(`${base}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' } })).text();
    const headers = { 'X-aws-ec2-metadata-token': token };
    const roles = (await (await this.#metadata(`${base}/latest/meta-data/iam/security-credentials/`, { headers })).text()).split('\n').filter(Boolean);
    if (roles.length === 0) throw new Error('EC2 metadata: the instance has no IAM role');
    const res = await this.#metadata(`${base}/latest/meta-data/iam/security-credentials/${encodeURIComponent(roles[0])}`, { headers });
    return fromMetadataJson(await res.json(), 'EC2 metadata');
  }

  #stsUrl(): string {
    const s = this.#s;
    const endpoint = s.stsEndpoint || this.#env.AWS_STS_ENDPOINT || (s.s3Region ? `https://sts.${s.s3Region}.amazonaws.com` : 'https://sts.amazonaws.com');
    return /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`;
  }

  #sessionName(): string {
    return this.#s.roleSessionName || this.#env.AWS_ROLE_SESSION_NAME || `consul-snapshot-${Date.now()}`;
  }

  /** Reads an STS answer's credentials or throws its error. */
  async #stsCredentials(res: Response, action: string): Promise<AwsCredentials> {
    const xml = await res.text();
    if (!res.ok) throw new Error(`STS ${action}: ${res.status} ${xmlText(xml, 'Code')}: ${xmlText(xml, 'Message')}`);
    const creds = { accessKeyId: xmlText(xml, 'AccessKeyId'), secretAccessKey: xmlText(xml, 'SecretAccessKey'), sessionToken: xmlText(xml, 'SessionToken') };
    if (!creds.accessKeyId || !creds.secretAccessKey) throw new Error(`STS ${action}: no credentials in the response`);
    const expiration = xmlText(xml, 'Expiration');
    return { ...creds, expires: expiration ? Date.parse(expiration) : undefined };
  }

  async #assumeWithWebIdentity(roleArn: string, tokenFile: string): Promise<AwsCredentials> {
    const token = (await fs.readFile(tokenFile, 'utf8')).trim();
    const body = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: roleArn, RoleSessionName: this.#sessionName(), WebIdentityToken: token,
    });
    const res = await this.#fetch(this.#stsUrl(), { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    return this.#stsCredentials(res, 'AssumeRoleWithWebIdentity');
  }

  async #assumeRole(roleArn: string, base: AwsCredentials): Promise<AwsCredentials> {
    const client = new AwsClient({ ...base, service: 'sts', region: this.#s.s3Region || 'us-east-1', retries: 2 });
    const body = new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: roleArn, RoleSessionName: this.#sessionName() });
    const res = await client.fetch(this.#stsUrl(), { method: 'POST', body: body.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    return this.#stsCredentials(res, 'AssumeRole');
  }
}
