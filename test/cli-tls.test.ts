// `proconsul tls ca create` / `tls cert create` / `tls cert renew` end to end: files, names,
// permissions and output in a temporary directory, the certificates as openssl reads them (SANs,
// key usages, name constraints, validity), Consul's refusals, and a real agent process serving
// HTTPS with verify_incoming on those certificates, reached with the client and CLI certificates.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { killAll, spawnAgent } from './support/procs.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(tmpdir(), 'proconsul-cli-tls-'));
const at = (name: string) => path.join(dir, name);
const DAY_MS = 86_400_000;

async function tls(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO({ cwd: dir });
  const code = await runCli(['tls', ...argv], io);
  return { code, out: io.out, err: io.err };
}

function text(file: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text', '-in', at(file)], { encoding: 'utf8' });
}

const days = (file: string): number => {
  const c = new X509Certificate(fs.readFileSync(at(file)));
  return (Date.parse(c.validTo) - Date.parse(c.validFrom)) / DAY_MS;
};

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('tls ca create', () => {
  test('writes consul-agent-ca.pem and its key, with name constraints, a SPIFFE URI and 1825 days', async () => {
    const r = await tls('ca', 'create', '-name-constraint', '-additional-name-constraint', 'example.test', '-cluster-id', '11111111-2222-3333-4444-555555555555');
    assert.deepEqual(r, { code: 0, out: '==> Saved consul-agent-ca.pem\n==> Saved consul-agent-ca-key.pem\n', err: '' });
    assert.equal(fs.statSync(at('consul-agent-ca-key.pem')).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(at('consul-agent-ca-key.pem'), 'utf8'), /^-----BEGIN EC PRIVATE KEY-----\n/);
    const dump = text('consul-agent-ca.pem');
    assert.match(dump, /Subject: C ?= ?US, ST ?= ?CA, L ?= ?San Francisco, street ?= ?101 Second Street, postalCode ?= ?94105, O ?= ?HashiCorp Inc\., CN ?= ?Consul Agent CA \d+\n/);
    assert.match(dump, /NIST CURVE: P-256/);
    assert.match(dump, /Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/);
    assert.match(dump, /Basic Constraints: critical\n\s+CA:TRUE\n/);
    assert.match(dump, /Name Constraints: critical\n\s+Permitted:\n\s+DNS:example\.test\n\s+DNS:consul\n\s+DNS:localhost\n/);
    assert.match(dump, /URI:spiffe:\/\/11111111-2222-3333-4444-555555555555\.consul\n/);
    assert.equal(days('consul-agent-ca.pem'), 1825);
  });

  test('refuses to overwrite an existing CA; -domain and -common-name name another one', async () => {
    assert.deepEqual(await tls('ca', 'create'), { code: 1, out: '', err: 'consul-agent-ca.pem already exists.\n' });
    const r = await tls('ca', 'create', '-domain', 'other', '-days', '30', '-common-name', 'Other CA');
    assert.equal(r.out, '==> Saved other-agent-ca.pem\n==> Saved other-agent-ca-key.pem\n');
    assert.match(text('other-agent-ca.pem'), /Subject: .*CN ?= ?Other CA\n/);
    assert.doesNotMatch(text('other-agent-ca.pem'), /Name Constraints/);
    assert.equal(days('other-agent-ca.pem'), 30);
  });
});

describe('tls cert create', () => {
  test('-server: the warning, the CA used, dc1-server-consul-0.pem with node and extra names, server and client auth', async () => {
    const r = await tls('cert', 'create', '-server', '-node', 's1', '-additional-dnsname', 'extra.consul', '-additional-ipaddress', '127.0.0.2');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `==> WARNING: Server Certificates grants authority to become a
    server and access all state in the cluster including root keys
    and all ACL tokens. Do not distribute them to production hosts
    that are not server nodes. Store them as securely as CA keys.
==> Using consul-agent-ca.pem and consul-agent-ca-key.pem
==> Saved dc1-server-consul-0.pem
==> Saved dc1-server-consul-0-key.pem
`);
    const dump = text('dc1-server-consul-0.pem');
    assert.match(dump, /Subject: CN ?= ?server\.dc1\.consul\n/);
    assert.match(dump, /Subject Alternative Name: \n\s+DNS:extra\.consul, DNS:s1\.server\.dc1\.consul, DNS:server\.dc1\.consul, DNS:localhost, IP Address:127\.0\.0\.2, IP Address:127\.0\.0\.1\n/);
    assert.match(dump, /Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    assert.match(dump, /Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
    assert.match(dump, /Basic Constraints: critical\n\s+CA:FALSE\n/);
    assert.equal(days('dc1-server-consul-0.pem'), 365);
    assert.equal(fs.statSync(at('dc1-server-consul-0-key.pem')).mode & 0o777, 0o600);
    assert.match(execFileSync('openssl', ['verify', '-CAfile', at('consul-agent-ca.pem'), at('dc1-server-consul-0.pem')], { encoding: 'utf8' }), /: OK/);
  });

  test('the next free index is picked; -client and -cli have their names and usages', async () => {
    const again = await tls('cert', 'create', '-server', '-days', '10');
    assert.match(again.out, /==> Saved dc1-server-consul-1\.pem\n==> Saved dc1-server-consul-1-key\.pem\n$/);
    assert.equal(days('dc1-server-consul-1.pem'), 10);
    const client = await tls('cert', 'create', '-client');
    assert.equal(client.out, '==> Using consul-agent-ca.pem and consul-agent-ca-key.pem\n==> Saved dc1-client-consul-0.pem\n==> Saved dc1-client-consul-0-key.pem\n');
    const cd = text('dc1-client-consul-0.pem');
    assert.match(cd, /DNS:client\.dc1\.consul, DNS:localhost, IP Address:127\.0\.0\.1\n/);
    assert.match(cd, /TLS Web Client Authentication, TLS Web Server Authentication\n/);
    const cli = await tls('cert', 'create', '-cli', '-additional-dnsname', 'dropped.consul');
    assert.match(cli.out, /==> Saved dc1-cli-consul-0\.pem\n/);
    const cl = text('dc1-cli-consul-0.pem');
    assert.match(cl, /Subject Alternative Name: \n\s+DNS:cli\.dc1\.consul, DNS:localhost\n/);
    assert.doesNotMatch(cl, /Extended Key Usage/);
  });

  test("Consul's refusals, and nothing written when the CA's name constraints forbid a name", async () => {
    assert.deepEqual(await tls('cert', 'create'), { code: 1, out: '', err: 'Please provide either -server, -client, or -cli\n' });
    assert.deepEqual(await tls('cert', 'create', '-server', '-client'), { code: 1, out: '', err: 'Please provide either -server, -client, or -cli\n' });
    assert.deepEqual(await tls('cert', 'create', '-client', '-node', 'n'), { code: 1, out: '', err: '-node requires -server\n' });
    assert.deepEqual(await tls('cert', 'create', '-client', '-domain', 'nope'),
      { code: 1, out: '', err: 'Error reading CA: open nope-agent-ca.pem: no such file or directory\n' });
    // net.ParseIP refuses a zone, which node:net's isIP accepts.
    assert.deepEqual(await tls('cert', 'create', '-client', '-additional-ipaddress', 'fe80::1%eth0'),
      { code: 1, out: '', err: 'Invalid IP address for -additional-ipaddress: "fe80::1%eth0"\n' });
    const bad = await tls('cert', 'create', '-client', '-additional-dnsname', 'evil.org');
    assert.equal(bad.code, 1);
    assert.equal(bad.err, 'x509: a root or intermediate certificate is not authorized to sign for this name: DNS name "evil.org" is not permitted by any constraint\n');
    assert.equal(fs.existsSync(at('dc1-client-consul-1.pem')), false);
  });

  test('tls cert renew certifies the existing key under the next free name', async () => {
    assert.deepEqual(await tls('cert', 'renew', '-server'), { code: 1, out: '', err: 'Please provide the existingkey like #DOMAIN#-agent-#-key.pem.\n' });
    const r = await tls('cert', 'renew', '-server', '-existingkey', 'dc1-server-consul-0-key.pem');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /==> Using consul-agent-ca\.pem and consul-agent-ca-key\.pem\n==> Saved dc1-server-consul-2\.pem\n$/);
    assert.equal(fs.existsSync(at('dc1-server-consul-2-key.pem')), false);
    const renewed = new X509Certificate(fs.readFileSync(at('dc1-server-consul-2.pem')));
    const key = createPublicKey(createPrivateKey(fs.readFileSync(at('dc1-server-consul-0-key.pem'))));
    assert.ok(renewed.publicKey.equals(key));
  });
});

describe('an agent serving HTTPS on the generated certificates', () => {
  let child: ChildProcess | undefined;
  let log = '';
  let port = 0;
  const ca = () => fs.readFileSync(at('consul-agent-ca.pem'));

  before(async () => {
    const ports = { http: await freePort(), https: await freePort(), serf: await freePort(), wan: await freePort(), server: await freePort() };
    port = ports.https;
    fs.writeFileSync(at('agent.hcl'), `tls {
  defaults {
    ca_file = "${at('consul-agent-ca.pem')}" cert_file = "${at('dc1-server-consul-0.pem')}" key_file = "${at('dc1-server-consul-0-key.pem')}"
    verify_incoming = true verify_outgoing = true
  }
  internal_rpc { verify_server_hostname = true }
}
ports { http = ${ports.http} https = ${ports.https} dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${ports.serf} serf_wan = ${ports.wan} server = ${ports.server} }
`);
    child = spawnAgent({ node: 's1', ip: '127.0.0.1', dataDir: at('data'), configFile: at('agent.hcl'), extra: ['-server', '-bootstrap'] },
      (t) => { log = (log + t).slice(-20_000); });
    await until(`the agent elects itself\n${log}`, 60_000, async () => (await fetch(`http://127.0.0.1:${ports.http}/v1/status/leader`).then((r) => r.text()).catch(() => '')).includes(':'));
  });
  after(() => killAll([child]));

  function get(urlPath: string, opts: https.RequestOptions): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: urlPath, agent: false, ca: ca(), ...opts }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('the client certificate is accepted; without one the handshake fails', async () => {
    const ok = await get('/v1/status/leader', { cert: fs.readFileSync(at('dc1-client-consul-0.pem')), key: fs.readFileSync(at('dc1-client-consul-0-key.pem')) });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /"127\.0\.0\.1:\d+"/);
    await assert.rejects(get('/v1/status/leader', {}));
  });

  test('the CLI talks to it with the -cli certificate', async () => {
    const env = { CONSUL_HTTP_ADDR: `https://127.0.0.1:${port}` };
    const tlsFlags = [`-ca-file=${at('consul-agent-ca.pem')}`, `-client-cert=${at('dc1-cli-consul-0.pem')}`, `-client-key=${at('dc1-cli-consul-0-key.pem')}`];
    const io = memoryIO({ env });
    assert.equal(await runCli(['kv', 'put', ...tlsFlags, 'tls/hello', 'world'], io), 0, io.err);
    const read = memoryIO({ env });
    assert.equal(await runCli(['kv', 'get', ...tlsFlags, 'tls/hello'], read), 0, read.err);
    assert.equal(read.out, 'world\n');
  });
});
