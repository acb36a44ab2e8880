// S3 storage of the snapshot agent (Consul Enterprise's aws_storage, any S3-compatible endpoint):
// each verified snapshot is uploaded as <s3_key_prefix>/consul-<id>.snap (or under the static
// snapshot name, then never rotated), and rotation lists the prefix and deletes the oldest
// objects beyond `retain` — in a versioned bucket with all their versions, which is why Consul
// lists ListBucketVersions among the permissions rotation needs. Requests are signed with SigV4
// by aws4fetch.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { AwsClient } from 'aws4fetch';
import { AwsCredentialChain } from './snapshot-agent-aws-credentials.ts';
import type { SnapshotAgentSettings } from './snapshot-agent-config.ts';
import { beyondRetain, SNAPSHOT_NAME, type SnapshotStorage } from './snapshot-agent-storage.ts';

type AwsSettings = SnapshotAgentSettings['aws'];

/** A failed S3 request, with S3's error code and message when it answered with one. */
export class S3Error extends Error {
  override name = 'S3Error';
  readonly status: number;
  readonly code: string;
  constructor(operation: string, status: number, code: string, message: string) {
    super(`S3 ${operation} failed: ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`);
    this.status = status;
    this.code = code;
  }
}

const unescapeXml = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/&amp;/g, '&');

/** Every `<tag>text</tag>` of an XML document, unescaped. */
function xmlAll(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => unescapeXml(m[1]));
}

/** The key's path segments percent-encoded as S3 expects (`/` kept). */
function encodeKey(key: string): string {
  return key.split('/').map((p) => encodeURIComponent(p).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');
}

/** A minimal S3 client: PutObject, ListObjectsV2 and DeleteObject on one bucket. */
export class S3Bucket {
  readonly #s: AwsSettings;
  readonly #creds: AwsCredentialChain;
  readonly #base: URL;

  constructor(settings: AwsSettings, env: NodeJS.ProcessEnv) {
    this.#s = settings;
    this.#creds = new AwsCredentialChain(settings, env);
    const endpoint = settings.s3Endpoint || env.AWS_S3_ENDPOINT || `https://s3.${settings.s3Region}.amazonaws.com`;
    const base = new URL(/^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`);
    if (settings.s3ForcePathStyle) base.pathname = `${base.pathname.replace(/\/+$/, '')}/${encodeURIComponent(settings.s3Bucket)}`;
    else base.hostname = `${settings.s3Bucket}.${base.hostname}`;
    this.#base = base;
  }

  /** The URL of an object (or of the bucket for an empty key). */
  url(key: string, query: Record<string, string> = {}): URL {
    const u = new URL(this.#base);
    // The bucket itself is /bucket path-style (no trailing slash) or / virtual-hosted.
    if (key) u.pathname = `${u.pathname.replace(/\/+$/, '')}/${encodeKey(key)}`;
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return u;
  }

  async #send(operation: string, url: URL, init: RequestInit): Promise<Response> {
    const c = await this.#creds.get();
    const client = new AwsClient({ ...c, service: 's3', region: this.#s.s3Region, retries: 3 });
    const res = await client.fetch(url.toString(), init);
    if (!res.ok) {
      const xml = await res.text().catch(() => '');
      throw new S3Error(operation, res.status, xmlAll(xml, 'Code')[0] ?? '', xmlAll(xml, 'Message')[0] ?? res.statusText);
    }
    return res;
  }

  /** Uploads `body` to `key` with server-side encryption as configured. */
  async put(key: string, body: Buffer): Promise<void> {
    const s = this.#s;
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'X-Amz-Content-Sha256': createHash('sha256').update(body).digest('hex'),
    };
    if (s.s3EnableKms) {
      headers['x-amz-server-side-encryption'] = 'aws:kms';
      if (s.s3KmsKey) headers['x-amz-server-side-encryption-aws-kms-key-id'] = s.s3KmsKey;
    } else if (s.s3ServerSideEncryption) {
      headers['x-amz-server-side-encryption'] = 'AES256';
    }
    const res = await this.#send(`PutObject ${key}`, this.url(key), { method: 'PUT', body: new Uint8Array(body), headers });
    await res.arrayBuffer();
  }

  /** Downloads `key`. */
  async get(key: string): Promise<Buffer> {
    const res = await this.#send(`GetObject ${key}`, this.url(key), { method: 'GET' });
    return Buffer.from(await res.arrayBuffer());
  }

  /** Every key under `prefix`, following continuation tokens. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token = '';
    for (;;) {
      const query: Record<string, string> = { 'list-type': '2', prefix };
      if (token) query['continuation-token'] = token;
      const xml = await (await this.#send(`ListObjectsV2 ${prefix}`, this.url('', query), { method: 'GET' })).text();
      keys.push(...xmlAll(xml, 'Key'));
      token = xmlAll(xml, 'NextContinuationToken')[0] ?? '';
      if (xmlAll(xml, 'IsTruncated')[0] !== 'true' || !token) return keys;
    }
  }

  /** Deletes `key`, or one version of it (S3 answers 204 whether or not it existed). */
  async delete(key: string, versionId?: string): Promise<void> {
    const url = this.url(key, versionId === undefined ? {} : { versionId });
    await (await this.#send(`DeleteObject ${key}`, url, { method: 'DELETE' })).arrayBuffer();
  }

  /**
   * Every version and delete marker under `prefix` (ListObjectVersions, paginated); null when the
   * server does not implement versions (405/501), as some S3-compatible servers do not.
   */
  async listVersions(prefix: string): Promise<{ key: string; versionId: string }[] | null> {
    const out: { key: string; versionId: string }[] = [];
    let marker: Record<string, string> = {};
    for (;;) {
      let xml: string;
      try {
        xml = await (await this.#send(`ListObjectVersions ${prefix}`, this.url('', { versions: '', prefix, ...marker }), { method: 'GET' })).text();
      } catch (err) {
        if (err instanceof S3Error && (err.status === 405 || err.status === 501)) return null;
        throw err;
      }
      for (const m of xml.matchAll(/<(Version|DeleteMarker)>([\s\S]*?)<\/\1>/g)) {
        const key = xmlAll(m[2], 'Key')[0];
        const versionId = xmlAll(m[2], 'VersionId')[0];
        if (key !== undefined && versionId !== undefined) out.push({ key, versionId });
      }
      if (xmlAll(xml, 'IsTruncated')[0] !== 'true') return out;
      marker = { 'key-marker': xmlAll(xml, 'NextKeyMarker')[0] ?? '', 'version-id-marker': xmlAll(xml, 'NextVersionIdMarker')[0] ?? '' };
    }
  }
}

/** Snapshots kept as objects in an S3 bucket. */
export class S3Storage implements SnapshotStorage {
  readonly scratchDir: string;
  readonly bucket: S3Bucket;
  readonly #s: AwsSettings;
  /** The server answered that it has no ListObjectVersions. */
  #noVersions = false;

  constructor(settings: AwsSettings, scratchDir: string, env: NodeJS.ProcessEnv) {
    this.#s = settings;
    this.scratchDir = scratchDir;
    this.bucket = new S3Bucket(settings, env);
  }

  /** The prefix objects are named under, with its trailing `/` ('' for none). */
  get #prefix(): string {
    const p = this.#s.s3KeyPrefix.replace(/^\/+|\/+$/g, '');
    return p ? `${p}/` : '';
  }

  /** The object key of snapshot `id`. */
  key(id: string): string {
    return this.#s.s3StaticSnapshotName || `${this.#prefix}consul-${id}.snap`;
  }

  async store(id: string, file: string): Promise<string> {
    try {
      const key = this.key(id);
      await this.bucket.put(key, await fs.readFile(file));
      return `s3://${this.#s.s3Bucket}/${key}`;
    } finally {
      await fs.rm(file, { force: true });
    }
  }

  /** Rotation: none with a static snapshot name; otherwise the oldest consul-<id>.snap objects directly under the prefix go. */
  async prune(retain: number): Promise<number> {
    if (this.#s.s3StaticSnapshotName) return 0;
    const prefix = this.#prefix;
    const ours = (await this.bucket.list(`${prefix}consul-`)).filter((k) => SNAPSHOT_NAME.test(k.slice(prefix.length)));
    const old = beyondRetain(ours, retain);
    for (const key of old) await this.bucket.delete(key);
    if (old.length > 0) await this.#purgeVersions(`${prefix}consul-`, new Set(old));
    return old.length;
  }

  /** In a versioned bucket, also removes the rotated snapshots' older versions and delete markers. */
  async #purgeVersions(prefix: string, keys: Set<string>): Promise<void> {
    if (this.#noVersions) return;
    const versions = await this.bucket.listVersions(prefix);
    if (versions === null) {
      this.#noVersions = true;
      return;
    }
    for (const v of versions) if (keys.has(v.key)) await this.bucket.delete(v.key, v.versionId);
  }
}
