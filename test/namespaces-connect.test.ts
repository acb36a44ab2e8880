// The mesh in namespaces and partitions: leaf certificates signed for a service of another
// namespace (Consul Enterprise's SPIFFE ID `…/ns/<ns>/dc/<dc>/svc/<name>`, `/ap/<ap>/…` outside the
// default partition), service:write checked in that namespace, the agent's leaf route and cache
// keyed by the service's namespace and partition.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { startAclAgent, httpCaller, tokenWithRules, ROOT, type HttpCall } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { seedTenants } from './support/tenancy.ts';

describe('leaf certificates in namespaces', () => {
  let dev: DevAgent;
  let call: HttpCall;
  let trust = '';
  before(async () => {
    dev = await startAclAgent();
    call = httpCaller(() => dev.httpAddr);
    await seedTenants(dev.agent.store, ['team-a', 'team-b']);
    trust = (await call('GET', '/v1/agent/connect/ca/roots', ROOT)).json.TrustDomain;
  });
  after(() => dev.stop());

  const uriOf = (pem: string) => new X509Certificate(pem).subjectAltName?.replace(/^URI:/, '');

  test('the agent signs a leaf in the namespace ?ns= or the header names, kept per namespace', async () => {
    const plain = await call('GET', '/v1/agent/connect/ca/leaf/web', ROOT);
    assert.equal(plain.status, 200, plain.text);
    assert.equal(plain.json.ServiceURI, `spiffe://${trust}/ns/default/dc/dc1/svc/web`);
    assert.ok(!('Namespace' in plain.json));
    const a = await call('GET', '/v1/agent/connect/ca/leaf/web?ns=team-a', ROOT);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.ServiceURI, `spiffe://${trust}/ns/team-a/dc/dc1/svc/web`);
    assert.equal(uriOf(a.json.CertPEM), a.json.ServiceURI);
    assert.deepEqual([a.json.Namespace, a.json.Partition], ['team-a', 'default']);
    assert.equal(a.headers.get('x-cache'), 'MISS');
    const again = await call('GET', '/v1/agent/connect/ca/leaf/web?ns=team-a', ROOT);
    assert.equal(again.headers.get('x-cache'), 'HIT');
    assert.equal(again.json.SerialNumber, a.json.SerialNumber);
    const b = await fetch(`http://${dev.httpAddr}/v1/agent/connect/ca/leaf/web`, { headers: { 'X-Consul-Token': ROOT, 'X-Consul-Namespace': 'team-b' } });
    const bj = await b.json() as { ServiceURI: string; SerialNumber: string };
    assert.equal(bj.ServiceURI, `spiffe://${trust}/ns/team-b/dc/dc1/svc/web`);
    assert.notEqual(bj.SerialNumber, a.json.SerialNumber);
    // `default` named is the default tenant's kept certificate.
    const named = await call('GET', '/v1/agent/connect/ca/leaf/web?ns=default', ROOT);
    assert.equal(named.json.SerialNumber, plain.json.SerialNumber);
    const wild = await call('GET', '/v1/agent/connect/ca/leaf/web?ns=*', ROOT);
    assert.equal(wild.status, 400);
    const p = await call('GET', '/v1/agent/connect/ca/leaf/web?ns=team-a&partition=p1', ROOT);
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.ServiceURI, `spiffe://${trust}/ap/p1/ns/team-a/dc/dc1/svc/web`);
  });

  test('service:write is checked in the SPIFFE ID\'s namespace', async () => {
    const tok = await tokenWithRules(call, 'namespace "team-a" { service "web" { policy = "write" } }');
    const ok = await call('GET', '/v1/agent/connect/ca/leaf/web?ns=team-a', tok.SecretID);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.ServiceURI, `spiffe://${trust}/ns/team-a/dc/dc1/svc/web`);
    const other = await call('GET', '/v1/agent/connect/ca/leaf/web?ns=team-b', tok.SecretID);
    assert.equal(other.status, 403);
    assert.match(other.text, /lacks permission 'service:write' on "web" in partition "default" in namespace "team-b"$/);
    const dflt = await call('GET', '/v1/agent/connect/ca/leaf/web', tok.SecretID);
    assert.equal(dflt.status, 403);
    assert.match(dflt.text, /lacks permission 'service:write' on "web"$/);
  });

  test('the agent authorizes a caller by its certificate\'s namespace and partition', async () => {
    const put = await call('PUT', '/v1/config?ns=team-b', ROOT, { Kind: 'service-intentions', Name: 'api', Sources: [{ Name: 'web', Namespace: 'team-a', Action: 'allow' }] });
    assert.equal(put.status, 200, put.text);
    const authorize = async (uri: string) => (await call('POST', '/v1/agent/connect/authorize?ns=team-b', ROOT, { Target: 'api', ClientCertURI: uri, ClientCertSerial: 'ab' })).json;
    assert.deepEqual(await authorize(`spiffe://${trust}/ns/team-a/dc/dc1/svc/web`), { Authorized: true, Reason: 'Matched L4 intention: web => api (Action: ALLOW, Precedence: 9)' });
    // The same names in another partition are another service: no intention matches (the management token's default allows).
    assert.deepEqual(await authorize(`spiffe://${trust}/ap/p1/ns/team-a/dc/dc1/svc/web`), { Authorized: true, Reason: 'Default behavior configured by ACLs' });
    assert.deepEqual(await authorize(`spiffe://${trust}/ns/team-c/dc/dc1/svc/web`), { Authorized: true, Reason: 'Default behavior configured by ACLs' });
  });

  test('a leaf in another namespace gets no DNS SAN the default namespace\'s ingress-gateway entry allows', async () => {
    // The dns-san check read the default namespace's local gateway and entry whatever ?ns= named,
    // so a token with service:write on team-a/igw got default/igw's hosts on a team-a certificate.
    assert.equal((await call('PUT', '/v1/config', ROOT, { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } })).status, 200);
    const put = await call('PUT', '/v1/config', ROOT, { Kind: 'ingress-gateway', Name: 'igw', Listeners: [{ Port: 9999, Protocol: 'http', Services: [{ Name: 'web', Hosts: ['secret.example.com'] }] }] });
    assert.equal(put.status, 200, put.text);
    const reg = await call('PUT', '/v1/agent/service/register', ROOT, { Name: 'igw', Kind: 'ingress-gateway', Port: 9999 });
    assert.equal(reg.status, 200, reg.text);
    const ok = await call('GET', '/v1/agent/connect/ca/leaf/igw?dns-san=secret.example.com', ROOT);
    assert.equal(ok.status, 200, ok.text);
    assert.match(new X509Certificate(ok.json.CertPEM).subjectAltName ?? '', /DNS:secret\.example\.com/);
    const tok = await tokenWithRules(call, 'namespace "team-a" { service "igw" { policy = "write" } }');
    const other = await call('GET', '/v1/agent/connect/ca/leaf/igw?ns=team-a&dns-san=secret.example.com', tok.SecretID);
    assert.equal(other.status, 403, other.text);
    assert.match(other.text, /Permission denied/);
  });

  test('a source naming no namespace is in its entry\'s namespace: the agent and the match read agree', async () => {
    const put = await call('PUT', '/v1/config?ns=team-b', ROOT, { Kind: 'service-intentions', Name: 'cache', Sources: [{ Name: 'web', Action: 'deny' }] });
    assert.equal(put.status, 200, put.text);
    const authorize = async (uri: string) => (await call('POST', '/v1/agent/connect/authorize?ns=team-b', ROOT, { Target: 'cache', ClientCertURI: uri, ClientCertSerial: 'ab' })).json;
    assert.equal((await authorize(`spiffe://${trust}/ns/team-b/dc/dc1/svc/web`)).Authorized, false);
    assert.equal((await authorize(`spiffe://${trust}/ns/default/dc/dc1/svc/web`)).Authorized, true);
    const match = await call('GET', '/v1/connect/intentions/match?by=destination&name=cache&ns=team-b', ROOT);
    assert.equal(match.json.cache[0].SourceNS, 'team-b', match.text);
  });

  test('a caller certificate spelling its namespace in capitals (or /ap/default/) is the same caller: its deny intention matches', async () => {
    // A token with service:write on team-a/web gets `…/ns/TEAM-A/…` signed (names fold); the agent
    // matched intentions on the unfolded name, so the deny was skipped and the wildcard allow matched.
    const put = await call('PUT', '/v1/config?ns=team-b', ROOT, { Kind: 'service-intentions', Name: 'db', Sources: [
      { Name: 'web', Namespace: 'team-a', Action: 'deny' }, { Name: '*', Namespace: '*', Action: 'allow' },
    ] });
    assert.equal(put.status, 200, put.text);
    const upper = `spiffe://${trust}/ns/TEAM-A/dc/dc1/svc/web`;
    const authorize = async (uri: string) => (await call('POST', '/v1/agent/connect/authorize?ns=team-b', ROOT, { Target: 'db', ClientCertURI: uri, ClientCertSerial: 'ab' })).json;
    const deny = { Authorized: false, Reason: 'Matched L4 intention: web => db (Action: DENY, Precedence: 9)' };
    assert.deepEqual(await authorize(`spiffe://${trust}/ns/team-a/dc/dc1/svc/web`), deny);
    assert.deepEqual(await authorize(upper), deny);
    assert.deepEqual(await authorize(`spiffe://${trust}/ap/DEFAULT/ns/Team-A/dc/dc1/svc/web`), deny);
    assert.deepEqual(await authorize(`spiffe://${trust}/ap/default/ns/team%2Da/dc/dc1/svc/web`), deny);
    const bad = await call('POST', '/v1/agent/connect/authorize?ns=team-b', ROOT, { Target: 'db', ClientCertURI: `spiffe://${trust}/ns/%zz/dc/dc1/svc/web`, ClientCertSerial: 'ab' });
    assert.deepEqual([bad.status, bad.text], [400, 'ClientCertURI not a valid Connect identifier']);
  });
});
