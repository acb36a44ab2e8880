import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { defaultSettings } from './snapshot-agent-config.ts';
import { S3Bucket, S3Storage } from './snapshot-agent-s3.ts';
import { beyondRetain, oldestFirst } from './snapshot-agent-storage.ts';

const aws = (o: Partial<ReturnType<typeof defaultSettings>['aws']>) => ({ ...defaultSettings().aws, s3Region: 'eu-west-1', s3Bucket: 'backups', ...o });

test('object URLs: regional AWS endpoint virtual-hosted, custom endpoints, path style, AWS_S3_ENDPOINT', () => {
  assert.equal(new S3Bucket(aws({}), {}).url('consul-snapshot/consul-1.snap').href, 'https://backups.s3.eu-west-1.amazonaws.com/consul-snapshot/consul-1.snap');
  assert.equal(new S3Bucket(aws({ s3Endpoint: 'minio.internal:9000' }), {}).url('a b/c+d').href, 'https://backups.minio.internal:9000/a%20b/c%2Bd');
  assert.equal(new S3Bucket(aws({ s3Endpoint: 'http://127.0.0.1:9000', s3ForcePathStyle: true }), {}).url('k').href, 'http://127.0.0.1:9000/backups/k');
  assert.equal(new S3Bucket(aws({ s3ForcePathStyle: true }), { AWS_S3_ENDPOINT: 'http://10.0.0.1' }).url('', { 'list-type': '2', prefix: 'p/' }).href, 'http://10.0.0.1/backups?list-type=2&prefix=p%2F');
  assert.equal(new S3Bucket(aws({ s3Endpoint: 'http://flag', s3ForcePathStyle: true }), { AWS_S3_ENDPOINT: 'http://env' }).url('k').host, 'flag');
});

test("keys as Consul names them: <prefix>/consul-<id>.snap, or the static snapshot name", () => {
  assert.equal(new S3Storage(aws({}), '/tmp', {}).key('17'), 'consul-snapshot/consul-17.snap');
  assert.equal(new S3Storage(aws({ s3KeyPrefix: '/dc1/snaps/' }), '/tmp', {}).key('17'), 'dc1/snaps/consul-17.snap');
  assert.equal(new S3Storage(aws({ s3KeyPrefix: '' }), '/tmp', {}).key('17'), 'consul-17.snap');
  assert.equal(new S3Storage(aws({ s3StaticSnapshotName: 'latest.snap' }), '/tmp', {}).key('17'), 'latest.snap');
});

test('rotation picks the oldest by snapshot ID, not by string order, and ignores other names', () => {
  const names = ['p/consul-900.snap', 'p/consul-1000.snap', 'p/other.txt', 'p/consul-99.snap', 'p/consul-x.snap', 'p/consul-1001.snap.unverified'];
  assert.deepEqual(oldestFirst(names), ['p/consul-99.snap', 'p/consul-900.snap', 'p/consul-1000.snap']);
  assert.deepEqual(beyondRetain(names, 2), ['p/consul-99.snap']);
  assert.deepEqual(beyondRetain(names, 5), []);
});

// A versioned in-memory S3 stand-in on 127.0.0.1 (no signature checks) that pages version
// listings two at a time; with `versioning` off it answers ListObjectVersions 405 as s3rver does.
const store = new Map<string, { id: string; marker: boolean }[]>();
let versioning = true;
let seq = 0;
const requests: string[] = [];
const putHeaders: http.IncomingHttpHeaders[] = [];
const server = http.createServer((req, res) => {
  const u = new URL(req.url!, 'http://x');
  requests.push(`${req.method} ${u.pathname}${u.search}`);
  if (req.method === 'PUT') putHeaders.push(req.headers);
  req.resume();
  req.on('end', () => {
    const key = decodeURIComponent(u.pathname.replace(/^\/b\/?/, ''));
    const versions = () => store.get(key) ?? [];
    if (req.method === 'PUT') {
      store.set(key, [...(versioning ? versions() : []), { id: `v${++seq}`, marker: false }]);
      return res.end();
    }
    if (req.method === 'DELETE') {
      const id = u.searchParams.get('versionId');
      if (id === null) store.set(key, versioning ? [...versions(), { id: `v${++seq}`, marker: true }] : []);
      else store.set(key, versions().filter((v) => v.id !== id));
      return res.writeHead(204).end();
    }
    const prefix = u.searchParams.get('prefix') ?? '';
    if (u.searchParams.has('versions')) {
      if (!versioning) return res.writeHead(405).end('<Error><Code>MethodNotAllowed</Code></Error>');
      const all = [...store.entries()].sort().flatMap(([k, vs]) => vs.map((v) => ({ k, ...v }))).filter((v) => v.k.startsWith(prefix));
      const from = u.searchParams.get('version-id-marker') ? all.findIndex((v) => v.id === u.searchParams.get('version-id-marker')) + 1 : 0;
      const page = all.slice(from, from + 2);
      const more = from + 2 < all.length;
      const items = page.map((v) => `<${v.marker ? 'DeleteMarker' : 'Version'}><Key>${v.k}</Key><VersionId>${v.id}</VersionId></${v.marker ? 'DeleteMarker' : 'Version'}>`).join('');
      return res.end(`<ListVersionsResult><IsTruncated>${more}</IsTruncated>${more ? `<NextKeyMarker>${page[1].k}</NextKeyMarker><NextVersionIdMarker>${page[1].id}</NextVersionIdMarker>` : ''}${items}</ListVersionsResult>`);
    }
    const current = [...store.entries()].filter(([k, vs]) => k.startsWith(prefix) && vs.length > 0 && !vs.at(-1)!.marker).map(([k]) => k).sort();
    res.end(`<ListBucketResult><IsTruncated>false</IsTruncated>${current.map((k) => `<Contents><Key>${k}</Key></Contents>`).join('')}</ListBucketResult>`);
  });
});
let endpoint = '';
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-s3unit-'));
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function saveSnapshots(storage: S3Storage, ids: string[]): Promise<void> {
  for (const id of ids) {
    const f = path.join(scratch, `consul-${id}.snap`);
    fs.writeFileSync(f, id);
    assert.equal(await storage.store(id, f), `s3://b/${storage.key(id)}`);
    assert.ok(!fs.existsSync(f), 'the scratch file is removed after upload');
  }
}

test('rotation in a versioned bucket removes every version of the rotated snapshots, paging through versions', async () => {
  store.clear();
  versioning = true;
  const storage = new S3Storage(aws({ s3Bucket: 'b', s3Endpoint: endpoint, s3ForcePathStyle: true, accessKeyId: 'k', secretAccessKey: 's', s3KeyPrefix: 'snaps' }), scratch, {});
  store.set('snaps/keep.txt', [{ id: 'x1', marker: false }]);
  await saveSnapshots(storage, ['5', '6', '7', '8']);
  assert.equal(await storage.prune(2), 2);
  assert.deepEqual([...store.entries()].filter(([, v]) => v.length > 0).map(([k]) => k).sort(), ['snaps/consul-7.snap', 'snaps/consul-8.snap', 'snaps/keep.txt']);
  assert.ok(requests.some((r) => r.includes('version-id-marker=')), 'paged');
});

test('a server without ListObjectVersions: plain deletes, and it is not asked again', async () => {
  store.clear();
  versioning = false;
  requests.length = 0;
  const storage = new S3Storage(aws({ s3Bucket: 'b', s3Endpoint: endpoint, s3ForcePathStyle: true, accessKeyId: 'k', secretAccessKey: 's' }), scratch, {});
  await saveSnapshots(storage, ['1', '2', '3']);
  assert.equal(await storage.prune(1), 2);
  await saveSnapshots(storage, ['4']);
  assert.equal(await storage.prune(1), 1);
  assert.deepEqual([...store.entries()].filter(([, v]) => v.length > 0).map(([k]) => k), ['consul-snapshot/consul-4.snap']);
  assert.equal(requests.filter((r) => r.includes('versions')).length, 1);
});

test('a static snapshot name is never rotated', async () => {
  store.clear();
  requests.length = 0;
  const storage = new S3Storage(aws({ s3Bucket: 'b', s3Endpoint: endpoint, s3ForcePathStyle: true, accessKeyId: 'k', secretAccessKey: 's', s3StaticSnapshotName: 'latest.snap' }), scratch, {});
  await saveSnapshots(storage, ['1', '2']);
  assert.equal(await storage.prune(1), 0);
  assert.deepEqual(requests, ['PUT /b/latest.snap', 'PUT /b/latest.snap']);
});

test('server-side encryption headers: AES256, or aws:kms with an optional key; the payload hash is signed', async () => {
  const sse = (o: object) => {
    putHeaders.length = 0;
    return saveSnapshots(new S3Storage(aws({ s3Bucket: 'b', s3Endpoint: endpoint, s3ForcePathStyle: true, accessKeyId: 'k', secretAccessKey: 's', ...o }), scratch, {}), ['9'])
      .then(() => putHeaders[0]);
  };
  assert.equal((await sse({}))['x-amz-server-side-encryption'], undefined);
  assert.equal((await sse({ s3ServerSideEncryption: true }))['x-amz-server-side-encryption'], 'AES256');
  const kms = await sse({ s3ServerSideEncryption: true, s3EnableKms: true, s3KmsKey: 'key-1' });
  assert.equal(kms['x-amz-server-side-encryption'], 'aws:kms');
  assert.equal(kms['x-amz-server-side-encryption-aws-kms-key-id'], 'key-1');
  assert.equal(kms['x-amz-content-sha256'], '19581e27de7ced00ff1ce50b2047e7a567c76b1cbaebabe5ef03f7c3017bb5b7');
  assert.match(String(kms.authorization), /^AWS4-HMAC-SHA256 Credential=k\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[^,]*x-amz-content-sha256;[^,]*x-amz-server-side-encryption;/);
});
