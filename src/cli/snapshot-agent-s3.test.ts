import { test } from 'node:test';
import assert from 'node:assert/strict';
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
