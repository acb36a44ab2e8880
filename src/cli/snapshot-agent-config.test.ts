import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFlags } from './flags.ts';
import { snapshotAgentCommand } from './snapshot-agent.ts';
import { defaultSettings, resolveSettings } from './snapshot-agent-config.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-snapcfg-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}
const resolve = (...argv: string[]) => resolveSettings(parseFlags(snapshotAgentCommand.flags, argv));

test("defaults are Consul Enterprise's documented ones", () => {
  const s = resolve();
  assert.deepEqual(s, defaultSettings());
  assert.equal(s.interval, 3_600_000);
  assert.equal(s.retain, 30);
  assert.equal(s.stale, false);
  assert.equal(s.service, 'consul-snapshot');
  assert.equal(s.deregisterAfter, 72 * 3_600_000);
  assert.equal(s.lockKey, 'consul-snapshot/lock');
  assert.equal(s.maxFailures, 3);
  assert.equal(s.localPath, '.');
  assert.equal(s.aws.s3KeyPrefix, 'consul-snapshot');
});

test('the documented JSON file format, with its empty-string defaults meaning unset', () => {
  const f = file('full.json', JSON.stringify({
    snapshot_agent: {
      http_addr: '127.0.0.1:9500', token: 't', datacenter: '', ca_file: '', tls_server_name: 'srv',
      log: { level: 'DEBUG', enable_syslog: false },
      login: { auth_method: 'kubernetes', bearer_token: '', bearer_token_file: '/var/run/token', meta: { pod: 'p-0' } },
      snapshot: { interval: '5m', retain: 7, stale: true, service: 'backups', deregister_after: '1h', lock_key: 'bk/lock', max_failures: 5, local_scratch_path: '/scratch' },
      local_storage: { path: '/var/snap' },
      aws_storage: {
        access_key_id: 'AK', secret_access_key: 'SK', session_token: '', iam_endpoint: '', role_arn: '', s3_region: 'eu-west-1',
        s3_bucket: 'b', s3_key_prefix: 'p/q', s3_server_side_encryption: true, s3_static_snapshot_name: '', s3_force_path_style: true,
        s3_endpoint: 'minio:9000', s3_enable_kms: true, s3_kms_key: 'k1',
      },
      azure_blob_storage: { account_name: '', account_key: '', container_name: '' },
      google_storage: { bucket: '' },
    },
  }));
  const s = resolve(`-config-file=${f}`);
  assert.deepEqual(
    [s.interval, s.retain, s.stale, s.service, s.deregisterAfter, s.lockKey, s.maxFailures, s.localScratchPath, s.localPath, s.logLevel],
    [300_000, 7, true, 'backups', 3_600_000, 'bk/lock', 5, '/scratch', '/var/snap', 'DEBUG'],
  );
  assert.deepEqual(s.http, { address: '127.0.0.1:9500', token: 't', serverName: 'srv' });
  assert.deepEqual(s.login, { authMethod: 'kubernetes', bearerToken: '', bearerTokenFile: '/var/run/token', meta: { pod: 'p-0' } });
  assert.deepEqual(resolve(`-config-file=${f}`, '-login-meta=a=b=c', '-login-meta=d=').login.meta, { pod: 'p-0', a: 'b=c', d: '' });
  assert.deepEqual(s.aws, {
    ...defaultSettings().aws, accessKeyId: 'AK', secretAccessKey: 'SK', s3Region: 'eu-west-1', s3Bucket: 'b', s3KeyPrefix: 'p/q',
    s3ServerSideEncryption: true, s3ForcePathStyle: true, s3Endpoint: 'minio:9000', s3EnableKms: true, s3KmsKey: 'k1',
  });
});

test('HCL files, -config-dir order and flags over files', () => {
  const d = path.join(dir, 'conf.d');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'a.hcl'), 'snapshot_agent {\n  snapshot {\n    interval = "10s"\n    retain = 2\n  }\n  aws_storage {\n    s3_bucket = "one"\n    s3_region = "r"\n  }\n}\n');
  fs.writeFileSync(path.join(d, 'b.json'), JSON.stringify({ snapshot_agent: { snapshot: { retain: 4 } } }));
  fs.writeFileSync(path.join(d, 'c.txt'), 'not read');
  fs.writeFileSync(path.join(d, 'd.json'), JSON.stringify({ datacenter: 'ignored: no snapshot_agent object' }));
  let s = resolve(`-config-dir=${d}`);
  assert.deepEqual([s.interval, s.retain, s.aws.s3Bucket, s.aws.s3Region], [10_000, 4, 'one', 'r']);
  s = resolve(`-config-dir=${d}`, '-retain=9', '-interval=0', '-aws-s3-bucket=two', '-aws-s3-force-path-style', '-aws-s3-key-prefix=', '-stale', '-lock-key=x/y');
  assert.deepEqual([s.interval, s.retain, s.aws.s3Bucket, s.aws.s3ForcePathStyle, s.aws.s3KeyPrefix, s.stale, s.lockKey], [0, 9, 'two', true, '', true, 'x/y']);
});

test('bad values and unsupported storage are refused with a message', () => {
  assert.throws(() => resolve('-interval=soon'), /^Error: Invalid -interval "soon"$/);
  assert.throws(() => resolve(`-config-file=${file('bad.json', '{"snapshot_agent":{"snapshot":{"deregister_after":"x"}}}')}`), /Invalid snapshot deregister_after "x"/);
  assert.throws(() => resolve('-aws-s3-bucket=b'), /S3 storage needs a region/);
  assert.throws(() => resolve('-login-meta=novalue'), /Invalid -login-meta "novalue": expected key=value/);
  assert.throws(() => resolve(`-config-file=${file('az.json', '{"snapshot_agent":{"azure_blob_storage":{"container_name":"c"}}}')}`), /azure_blob_storage is not supported/);
  assert.throws(() => resolve(`-config-file=${file('none.json', '{}')}`), /No snapshot_agent object found/);
  assert.throws(() => resolve(`-config-file=${file('broken.hcl', 'snapshot_agent {')}`), /failed to parse .*broken\.hcl/);
});

test('every aws_storage key has its -aws-* flag', () => {
  const names = new Set(snapshotAgentCommand.flags.map((f) => f.name));
  for (const k of ['access-key-id', 'secret-access-key', 'session-token', 'iam-endpoint', 'role-arn', 'role-session-name', 'web-identity-token-file', 'sts-endpoint',
    's3-region', 's3-bucket', 's3-key-prefix', 's3-endpoint', 's3-server-side-encryption', 's3-static-snapshot-name', 's3-force-path-style', 's3-enable-kms', 's3-kms-key']) {
    assert.ok(names.has(`aws-${k}`), k);
  }
  for (const k of ['interval', 'retain', 'lock-key', 'max-failures', 'service', 'deregister-after', 'local-path', 'local-scratch-path', 'log-level', 'stale', 'login-auth-method', 'login-bearer-token', 'login-bearer-token-file', 'login-meta', 'http-addr', 'token', 'token-file', 'config-file', 'config-dir']) {
    assert.ok(names.has(k), k);
  }
});
