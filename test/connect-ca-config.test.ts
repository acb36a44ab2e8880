// GET/PUT /v1/connect/ca/configuration over HTTP on an in-process dev agent: the configuration the
// first leader stores from the agent's connect stanza, Consul's checks on a new one (leaf TTL
// 1h..8760h, intermediate and root TTLs, key sizes: a 500 with Consul's message), decode errors
// (400), the read-only provider state, and a CA left uninitialized by a refused agent config
// being initialized by a valid PUT, and a configured PrivateKey used for the root (a new one rotates it).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCsr } from '../src/connect/csr.ts';
import { agentUri } from '../src/connect/index.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

const allowTls = { tls: false, allowTls: true, dnsSan: [], ipSan: [] };
let dev: DevAgent;

before(async () => {
  dev = await startDevAgent({ config: { autoEncrypt: allowTls, connect: { enabled: true, caProvider: 'consul', caConfig: { LeafCertTTL: '24h' } } } });
});
after(() => dev?.stop());

async function call(a: DevAgent, method: string, body?: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://${a.httpAddr}/v1/connect/ca/configuration`, { method, body, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, text: await r.text() };
}

const put = (a: DevAgent, config: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  call(a, 'PUT', JSON.stringify({ Provider: 'consul', Config: config, ...extra }));

/** The leaf TTL AutoEncrypt.Sign gives an agent certificate now, in hours. */
async function leafHours(a: DevAgent): Promise<number> {
  const { csrPem } = await createCsr(agentUri({ host: 'unknown', datacenter: 'dc1', agent: 'c1' }), [], []);
  const res = await a.agent.endpoints.autoEncrypt.sign({ Datacenter: 'dc1', CSR: csrPem }, undefined);
  return (Date.parse(res.IssuedCert.ValidBefore) - Date.parse(res.IssuedCert.ValidAfter)) / 3_600_000;
}

test('GET answers the configuration the first leader stored from the agent\'s connect stanza', async () => {
  const got = await call(dev, 'GET');
  assert.equal(got.status, 200);
  const cfg = JSON.parse(got.text) as Record<string, unknown>;
  assert.deepEqual({ ...cfg, CreateIndex: 0, ModifyIndex: 0 }, {
    Provider: 'consul', Config: { LeafCertTTL: '24h', IntermediateCertTTL: '8760h', RootCertTTL: '87600h' },
    State: null, ForceWithoutCrossSigning: false, CreateIndex: 0, ModifyIndex: 0,
  });
  assert.ok((cfg.ModifyIndex as number) > 0);
  assert.equal(await leafHours(dev), 24);
});

test('PUT refuses what Consul\'s CA refuses: 500 with its message, and the configuration stays', async () => {
  const before = (await call(dev, 'GET')).text;
  const cases: [Record<string, unknown>, string][] = [
    [{ LeafCertTTL: '30s' }, 'leaf cert TTL must be greater or equal than 1h0m0s'],
    [{ LeafCertTTL: '60s' }, 'leaf cert TTL must be greater or equal than 1h0m0s'],
    [{ LeafCertTTL: '8761h', IntermediateCertTTL: '30000h' }, 'leaf cert TTL must be less than 8760h0m0s'],
    [{ LeafCertTTL: '1h', IntermediateCertTTL: '2h' }, 'Intermediate Cert TTL must be greater or equal than 3h'],
    [{ LeafCertTTL: '72h', IntermediateCertTTL: '100h' }, 'Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL (>=216h0m0s).'],
    [{ RootCertTTL: '100h' }, 'root cert TTL is set and is not greater than intermediate cert ttl. root cert ttl: 100h0m0s, intermediate cert ttl: 8760h0m0s'],
    [{ PrivateKeyType: 'rsa', PrivateKeyBits: 1024 }, 'RSA key length must be 2048 or 4096 bits'],
    [{ PrivateKeyBits: 512 }, 'EC key length must be one of (224, 256, 384, 521) bits'],
    [{ PrivateKeyType: 'dsa' }, "private key type must be either 'ec' or 'rsa'"],
    [{ LeafCertTTL: 'soon' }, 'error decoding config: 1 error(s) decoding:\n\n* error decoding \'LeafCertTTL\': time: invalid duration "soon"'],
  ];
  for (const [config, message] of cases) {
    assert.deepEqual(await put(dev, config), { status: 500, text: `error configuring provider: ${message}` }, JSON.stringify(config));
  }
  assert.deepEqual(await call(dev, 'PUT', JSON.stringify({ Provider: 'nope', Config: {} })), { status: 500, text: 'could not initialize provider: unknown CA provider "nope"' });
  assert.equal((await call(dev, 'GET')).text, before);
  assert.equal(await leafHours(dev), 24);
});

test('PUT refuses undecodable bodies and provider state changes with 400', async () => {
  assert.equal((await call(dev, 'PUT', '')).text, 'Request decode failed: EOF');
  const bad = await call(dev, 'PUT', '{"Provider": 5}');
  assert.deepEqual(bad, { status: 400, text: 'Request decode failed: json: cannot unmarshal number into Go struct field CAConfiguration.Provider of type string' });
  assert.equal((await call(dev, 'PUT', '{')).status, 400);
  assert.deepEqual(await put(dev, {}, { State: 'x' }),
    { status: 400, text: 'Request decode failed: json: cannot unmarshal string into Go struct field CAConfiguration.State of type map[string]string' });
  // An empty ?cas= is no CAS (Consul parses it only when given a value); a malformed one is refused.
  const casPut = async (cas: string) => (await fetch(`http://${dev.httpAddr}/v1/connect/ca/configuration?cas=${cas}`, { method: 'PUT', body: '{"Provider": 5}' })).text();
  assert.match(await casPut(''), /CAConfiguration\.Provider of type string$/);
  assert.equal(await casPut('x'), 'Request decode failed: strconv.ParseUint: parsing "x": invalid syntax');
  assert.deepEqual(await put(dev, { LeafCertTTL: '2h' }, { State: { foo: 'bar' } }),
    { status: 400, text: 'Provider State is read-only. It must be omitted or identical to the current value' });
});

test('a valid PUT is stored as given and signs leaves with its TTL; the same config again is a no-op', async () => {
  // Consul's handler returns no object: an empty body.
  assert.deepEqual(await put(dev, { LeafCertTTL: '2h', IntermediateCertTTL: '288h' }, { force_without_cross_signing: true }), { status: 200, text: '' });
  const cfg = JSON.parse((await call(dev, 'GET')).text) as Record<string, unknown>;
  assert.deepEqual([cfg.Config, cfg.ForceWithoutCrossSigning], [{ LeafCertTTL: '2h', IntermediateCertTTL: '288h' }, true]);
  assert.equal(await leafHours(dev), 2);
  assert.equal((await put(dev, { LeafCertTTL: '2h', IntermediateCertTTL: '288h' })).status, 200);
  assert.equal(JSON.parse((await call(dev, 'GET')).text).ModifyIndex, cfg.ModifyIndex);
});

test('an agent ca_config Consul refuses leaves the CA uninitialized until a valid PUT', async () => {
  const broken = await startDevAgent({ config: { autoEncrypt: allowTls, connect: { enabled: true, caProvider: '', caConfig: { LeafCertTTL: '90s' } } } });
  try {
    const roots = async () => (await (await fetch(`http://${broken.httpAddr}/v1/connect/ca/roots`)).json()) as { Roots: unknown[] };
    assert.deepEqual((await roots()).Roots, []);
    await assert.rejects(leafHours(broken), { message: 'CA is uninitialized and unable to sign certificates yet: provider is nil' });
    assert.equal(JSON.parse((await call(broken, 'GET')).text).Config.LeafCertTTL, '90s');
    assert.equal((await put(broken, { LeafCertTTL: '1h' })).status, 200);
    assert.equal((await roots()).Roots.length, 1);
    assert.equal(await leafHours(broken), 1);
  } finally {
    await broken.stop();
  }
});

test('without Connect both methods answer Consul\'s 500', async () => {
  const off = await startDevAgent({ config: { connect: { enabled: false, caProvider: '', caConfig: {} } } });
  try {
    const text = 'Connect must be enabled in order to use this endpoint';
    assert.deepEqual(await call(off, 'GET'), { status: 500, text });
    assert.deepEqual(await put(off, { LeafCertTTL: '2h' }), { status: 500, text });
  } finally {
    await off.stop();
  }
});

test('with ACLs the configuration needs operator:write to read (Consul since CVE-2020-28053) and to change', async () => {
  const mgmt = '5a0b2c4e-8f1d-4d8e-9a6b-3c2d1e0f9a8b';
  const acl = await startDevAgent({ config: { acl: {
    enabled: true, defaultPolicy: 'deny', downPolicy: 'extend-cache',
    tokens: { initialManagement: mgmt, agent: '', agentRecovery: '', default: '', replication: '', configFileServiceRegistration: '', dns: '' },
  } } });
  try {
    const req = async (method: string, token: string, body?: string) => {
      const r = await fetch(`http://${acl.httpAddr}/v1/connect/ca/configuration`, { method, body, headers: token ? { 'X-Consul-Token': token } : {} });
      return { status: r.status, text: await r.text() };
    };
    const denied = await req('GET', '');
    assert.equal(denied.status, 403);
    assert.match(denied.text, /lacks permission 'operator:write'/);
    assert.match((await req('PUT', '', '{"Provider":"consul","Config":{"LeafCertTTL":"2h"}}')).text, /lacks permission 'operator:write'/);
    // operator:read is not enough: the configuration can hold the CA's private key.
    const aclPut = async (path: string, body: object) => (await fetch(`http://${acl.httpAddr}${path}`, {
      method: 'PUT', headers: { 'X-Consul-Token': mgmt }, body: JSON.stringify(body),
    })).json() as Promise<Record<string, string>>;
    const policy = await aclPut('/v1/acl/policy', { Name: 'op-read', Rules: 'operator = "read"' });
    const reader = (await aclPut('/v1/acl/token', { Policies: [{ ID: policy.ID }] })).SecretID;
    const readOnly = await req('GET', reader);
    assert.equal(readOnly.status, 403, readOnly.text);
    assert.match(readOnly.text, /lacks permission 'operator:write'/);
    assert.equal((await req('GET', mgmt)).status, 200);
    assert.equal((await req('PUT', mgmt, '{"Provider":"consul","Config":{"LeafCertTTL":"2h"}}')).status, 200);
  } finally {
    await acl.stop();
  }
});

test('PUT keeps the stored PrivateKey and RootCert as no change (GET, edit, PUT); a different key rotates the root onto it', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const pem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const key = pem();
  const a = await startDevAgent({ config: { connect: { enabled: true, caProvider: 'consul', caConfig: { LeafCertTTL: '24h', PrivateKey: key } } } });
  try {
    const cfg = JSON.parse((await call(a, 'GET')).text) as { Config: Record<string, unknown> };
    assert.equal(cfg.Config.PrivateKey, key);
    assert.deepEqual(await put(a, { ...cfg.Config, LeafCertTTL: '48h' }), { status: 200, text: '' });
    assert.equal((JSON.parse((await call(a, 'GET')).text) as { Config: Record<string, unknown> }).Config.LeafCertTTL, '48h');
    const rootsNow = async () => (await (await fetch(`http://${a.httpAddr}/v1/connect/ca/roots`)).json()) as { ActiveRootID: string; Roots: { ID: string; RootCert: string }[] };
    const { X509Certificate, createPrivateKey } = await import('node:crypto');
    const first = await rootsNow();
    assert.ok(new X509Certificate(first.Roots[0].RootCert).checkPrivateKey(createPrivateKey(key)), 'the first root is on the configured key');
    const next = pem();
    assert.deepEqual(await put(a, { ...cfg.Config, PrivateKey: next }), { status: 200, text: '' });
    const after = await rootsNow();
    assert.equal(after.Roots.length, 2);
    const active = after.Roots.find((r) => r.ID === after.ActiveRootID)!;
    assert.notEqual(active.ID, first.ActiveRootID);
    assert.ok(new X509Certificate(active.RootCert).checkPrivateKey(createPrivateKey(next)), 'the new root is on the new key');
  } finally {
    await a.stop();
  }
});
