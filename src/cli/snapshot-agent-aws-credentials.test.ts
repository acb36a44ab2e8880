import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AwsCredentialChain, parseCredentialsFile, type AwsCredentialSettings } from './snapshot-agent-aws-credentials.ts';

const none: AwsCredentialSettings = {
  accessKeyId: '', secretAccessKey: '', sessionToken: '', roleArn: '', roleSessionName: '', webIdentityTokenFile: '', stsEndpoint: '', s3Region: 'us-east-1',
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-awscreds-'));
const noFile = { AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'missing'), AWS_EC2_METADATA_DISABLED: 'true' };

// A stand-in for the ECS, EC2 metadata and STS endpoints on 127.0.0.1, recording what it was asked.
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
let base = '';
let expiration = '';
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => { body += d.toString(); });
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    const creds = { AccessKeyId: 'TMP', SecretAccessKey: 'TMPSECRET', Token: 'TOK', Expiration: expiration };
    if (req.url === '/ecs/creds') {
      if (req.headers.authorization !== 'ecs-auth') return res.writeHead(401).end();
      return res.end(JSON.stringify(creds));
    }
    if (req.url === '/latest/api/token' && req.method === 'PUT') return res.end('imds-token');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'imds-token') return res.writeHead(401).end();
    if (req.url === '/latest/meta-data/iam/security-credentials/') return res.end('node-role\n');
    if (req.url === '/latest/meta-data/iam/security-credentials/node-role') return res.end(JSON.stringify(creds));
    res.writeHead(404).end();
  });
});
const sts = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => { body += d.toString(); });
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    const action = new URLSearchParams(body).get('Action');
    if (new URLSearchParams(body).get('RoleArn') === 'arn:bad') {
      return res.writeHead(403).end('<ErrorResponse><Error><Code>AccessDenied</Code><Message>not &amp; never</Message></Error></ErrorResponse>');
    }
    res.end(`<${action}Response><${action}Result><Credentials><AccessKeyId>ROLE</AccessKeyId><SecretAccessKey>ROLESECRET</SecretAccessKey><SessionToken>RTOK</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></${action}Result></${action}Response>`);
  });
});
let stsUrl = '';

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => sts.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  stsUrl = `http://127.0.0.1:${(sts.address() as { port: number }).port}`;
});
after(() => {
  server.close();
  sts.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the shared credentials file: profiles, comments, a missing profile', () => {
  const text = '# comment\n[default]\naws_access_key_id = AKD\naws_secret_access_key=SKD\n\n[profile ops]\naws_access_key_id = AKO\naws_secret_access_key = SKO\naws_session_token = TO\n[half]\naws_access_key_id = X\n';
  assert.deepEqual(parseCredentialsFile(text, 'default'), { accessKeyId: 'AKD', secretAccessKey: 'SKD', sessionToken: undefined });
  assert.deepEqual(parseCredentialsFile(text, 'ops'), { accessKeyId: 'AKO', secretAccessKey: 'SKO', sessionToken: 'TO' });
  assert.equal(parseCredentialsFile(text, 'half'), null);
  assert.equal(parseCredentialsFile(text, 'nope'), null);
});

test("Consul's order: static keys, then the environment, then the shared file", async () => {
  const shared = path.join(dir, 'credentials');
  fs.writeFileSync(shared, '[team]\naws_access_key_id = FILE\naws_secret_access_key = FS\n');
  const env = { AWS_ACCESS_KEY_ID: 'ENV', AWS_SECRET_ACCESS_KEY: 'ES', AWS_SESSION_TOKEN: 'ET', AWS_SHARED_CREDENTIALS_FILE: shared, AWS_PROFILE: 'team' };
  assert.equal((await new AwsCredentialChain({ ...none, accessKeyId: 'ST', secretAccessKey: 'SS' }, env).get()).accessKeyId, 'ST');
  assert.deepEqual(await new AwsCredentialChain(none, env).get(), { accessKeyId: 'ENV', secretAccessKey: 'ES', sessionToken: 'ET' });
  assert.equal((await new AwsCredentialChain(none, { AWS_SHARED_CREDENTIALS_FILE: shared, AWS_PROFILE: 'team' }).get()).accessKeyId, 'FILE');
  await assert.rejects(new AwsCredentialChain(none, noFile).get(), /no AWS credentials found/);
});

test('ECS task role credentials with the authorization token', async () => {
  expiration = '';
  const c = await new AwsCredentialChain(none, { ...noFile, AWS_CONTAINER_CREDENTIALS_FULL_URI: `${base}/ecs/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'ecs-auth' }).get();
  assert.deepEqual(c, { accessKeyId: 'TMP', secretAccessKey: 'TMPSECRET', sessionToken: 'TOK', expires: undefined });
});

test('EC2 instance role credentials through IMDSv2, refreshed when about to expire', async () => {
  expiration = new Date(Date.now() + 60_000).toISOString();
  seen.length = 0;
  const chain = new AwsCredentialChain(none, { AWS_SHARED_CREDENTIALS_FILE: noFile.AWS_SHARED_CREDENTIALS_FILE, AWS_EC2_METADATA_SERVICE_ENDPOINT: base });
  const c = await chain.get();
  assert.equal(c.accessKeyId, 'TMP');
  assert.equal(seen[0].headers['x-aws-ec2-metadata-token-ttl-seconds'], '21600');
  assert.deepEqual(seen.map((r) => `${r.method} ${r.url}`), ['PUT /latest/api/token', 'GET /latest/meta-data/iam/security-credentials/', 'GET /latest/meta-data/iam/security-credentials/node-role']);
  // Expiring within the refresh margin: fetched again.
  await chain.get();
  assert.equal(seen.length, 6);
  expiration = new Date(Date.now() + 3_600_000).toISOString();
  await chain.get();
  await chain.get();
  assert.equal(seen.length, 9);
});

test('a role ARN with a web identity token file: AssumeRoleWithWebIdentity', async () => {
  const token = path.join(dir, 'token');
  fs.writeFileSync(token, 'jwt-value\n');
  seen.length = 0;
  const c = await new AwsCredentialChain({ ...none, stsEndpoint: stsUrl, roleSessionName: 'snap' }, { ...noFile, AWS_ROLE_ARN: 'arn:aws:iam::1:role/r', AWS_WEB_IDENTITY_TOKEN_FILE: token }).get();
  assert.deepEqual(c, { accessKeyId: 'ROLE', secretAccessKey: 'ROLESECRET', sessionToken: 'RTOK', expires: Date.parse('2099-01-01T00:00:00Z') });
  const form = new URLSearchParams(seen[0].body);
  assert.deepEqual(Object.fromEntries(form), { Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: 'arn:aws:iam::1:role/r', RoleSessionName: 'snap', WebIdentityToken: 'jwt-value' });
  assert.equal(seen[0].headers.authorization, undefined);
});

test('a role ARN without a token file: AssumeRole signed with the base credentials; STS errors are reported', async () => {
  seen.length = 0;
  const settings = { ...none, accessKeyId: 'BASE', secretAccessKey: 'BS', roleArn: 'arn:aws:iam::1:role/r', stsEndpoint: stsUrl };
  const c = await new AwsCredentialChain(settings, noFile).get();
  assert.equal(c.accessKeyId, 'ROLE');
  assert.equal(new URLSearchParams(seen[0].body).get('Action'), 'AssumeRole');
  assert.match(String(seen[0].headers.authorization), /^AWS4-HMAC-SHA256 Credential=BASE\/\d{8}\/us-east-1\/sts\/aws4_request, /);
  await assert.rejects(new AwsCredentialChain({ ...settings, roleArn: 'arn:bad' }, noFile).get(), /^Error: STS AssumeRole: 403 AccessDenied: not & never$/);
});
