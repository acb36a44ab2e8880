import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddress, resolveConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { ApiError } from './errors.ts';
import { tmpDir } from '../test-tmp-dir.ts';

const dir = tmpDir('proconsul-api-');
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, '  file-token\n');

test('address forms of CONSUL_HTTP_ADDR', () => {
  assert.deepEqual(parseAddress('127.0.0.1:8500'), { scheme: 'http', host: '127.0.0.1', port: 8500, pathPrefix: '' });
  assert.deepEqual(parseAddress('http://consul.local:18500'), { scheme: 'http', host: 'consul.local', port: 18500, pathPrefix: '' });
  assert.deepEqual(parseAddress('https://10.0.0.1'), { scheme: 'https', host: '10.0.0.1', port: 443, pathPrefix: '' });
  assert.deepEqual(parseAddress('http://gw:80/consul/api'), { scheme: 'http', host: 'gw', port: 80, pathPrefix: '/consul/api' });
  assert.deepEqual(parseAddress('[::1]:8500'), { scheme: 'http', host: '::1', port: 8500, pathPrefix: '' });
  assert.equal(parseAddress('unix:///var/run/consul.sock').socketPath, '/var/run/consul.sock');
  assert.throws(() => parseAddress('ftp://x:1'), (e: Error) => e instanceof ConfigError && e.message === 'Unknown protocol scheme: ftp');
});

test('CONSUL_HTTP_SSL makes bare and http:// addresses https, as the Go client does', () => {
  const env = { CONSUL_HTTP_SSL: 'true', CONSUL_HTTP_ADDR: 'http://h:8501' };
  assert.equal(resolveConfig({ env }).scheme, 'https');
  assert.equal(resolveConfig({ env: { CONSUL_HTTP_ADDR: 'h:1' } }).scheme, 'http');
});

test('defaults come from the environment, explicit options win', () => {
  const env = { CONSUL_HTTP_ADDR: 'envhost:9500', CONSUL_HTTP_TOKEN: 'env-token' };
  const c = resolveConfig({ env });
  assert.equal(`${c.host}:${c.port}`, 'envhost:9500');
  assert.equal(c.token, 'env-token');
  const d = resolveConfig({ env: {} });
  assert.equal(`${d.host}:${d.port}`, '127.0.0.1:8500');
  assert.equal(d.token, '');
  assert.equal(resolveConfig({ env, address: 'other:1' }).host, 'other');
});

test('token precedence: explicit token > token file > CONSUL_HTTP_TOKEN', () => {
  const env = { CONSUL_HTTP_TOKEN: 'env-token', CONSUL_HTTP_TOKEN_FILE: tokenFile };
  assert.equal(resolveConfig({ env }).token, 'file-token');
  assert.equal(resolveConfig({ env, token: 'explicit' }).token, 'explicit');
  assert.equal(resolveConfig({ env: { CONSUL_HTTP_TOKEN: 'env-token' }, tokenFile }).token, 'file-token');
  const empty = join(dir, 'empty');
  writeFileSync(empty, '\n');
  assert.equal(resolveConfig({ env: { CONSUL_HTTP_TOKEN: 'env-token', CONSUL_HTTP_TOKEN_FILE: empty } }).token, 'env-token');
  assert.throws(() => resolveConfig({ env: {}, tokenFile: join(dir, 'missing') }),
    { message: `Error loading token file: open ${join(dir, 'missing')}: no such file or directory` });
});

test('CONSUL_HTTP_AUTH becomes basic auth, password optional', () => {
  assert.equal(resolveConfig({ env: { CONSUL_HTTP_AUTH: 'u:p' } }).basicAuth, `Basic ${Buffer.from('u:p').toString('base64')}`);
  assert.equal(resolveConfig({ env: { CONSUL_HTTP_AUTH: 'u' } }).basicAuth, `Basic ${Buffer.from('u:').toString('base64')}`);
});

test('ApiError reads like Go api.StatusError', () => {
  const e = new ApiError(500, 'No path to datacenter');
  assert.equal(e.message, 'Unexpected response code: 500 (No path to datacenter)');
  assert.equal(e.statusCode, 500);
});

test('CA files and directories load as go-rootcerts does, with its errors', async () => {
  const { loadTls } = await import('./config.ts');
  const { mkdirSync } = await import('node:fs');
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const caDir = join(dir, 'cas');
  mkdirSync(join(caDir, 'nested'), { recursive: true });
  writeFileSync(join(caDir, 'a.crt'), pem);
  writeFileSync(join(caDir, 'nested', 'b'), pem);
  assert.equal(loadTls({ caPath: caDir, insecureSkipVerify: false }).ca?.length, 2);
  writeFileSync(join(caDir, 'notes.txt'), 'not a certificate');
  const fails = (opts: Parameters<typeof loadTls>[0], message: string) =>
    assert.throws(() => loadTls(opts), (e: Error) => e instanceof ConfigError && e.message === message, message);
  fails({ caPath: caDir }, `Error loading CA Path: Couldn't parse PEM in: ${join(caDir, 'notes.txt')}`);
  fails({ caPath: join(dir, 'none') }, `lstat ${join(dir, 'none')}: no such file or directory`);
  fails({ caFile: join(dir, 'none.pem') }, `Error loading CA File: open ${join(dir, 'none.pem')}: no such file or directory`);
  fails({ caFile: tokenFile }, `Error loading CA File: Couldn't parse PEM in: ${tokenFile}`);
  // CONSUL_HTTP_SSL_VERIFY=false skips server verification; CONSUL_TLS_SERVER_NAME sets SNI without a port.
  const tls = resolveConfig({ env: { CONSUL_HTTP_SSL_VERIFY: 'false', CONSUL_TLS_SERVER_NAME: 'consul.example:8501' } }).tls;
  assert.deepEqual(loadTls(tls), { ca: undefined, cert: undefined, key: undefined, servername: 'consul.example', rejectUnauthorized: false });
});
