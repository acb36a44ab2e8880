// Consul Enterprise's operator surfaces against real agents over HTTP and the CLI: the open
// licence (GET /v1/operator/license, `license get|inspect|put|reset`), the segment list and
// `/v1/agent/members?segment=`, the Enterprise autopilot fields round-tripping through the HTTP
// API and `operator autopilot set-config|get-config`, and ACLs on each.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCaller, ROOT, startAclAgent, tokenWithRules } from './support/acl.ts';
import { cliAgent, runCliCaptured } from './support/cli.ts';
import { devConfig } from './support/agent.ts';
import { createClientAgent, type ClientAgent } from '../src/index.ts';
import { silentLogger } from '../src/log.ts';

describe('Enterprise operator endpoints on a dev agent', () => {
  const h = cliAgent();
  const call = httpCaller(() => h.agent.httpAddr);

  test('GET /v1/operator/license is the open licence: valid, permanent, Consul\'s shape', async () => {
    const r = await call('GET', '/v1/operator/license');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), ['Valid', 'License', 'Warnings']);
    assert.equal(r.json.Valid, true);
    assert.deepEqual(r.json.Warnings, []);
    const l = r.json.License;
    assert.deepEqual(Object.keys(l).sort(), [
      'customer_id', 'expiration_time', 'features', 'flags', 'installation_id', 'issue_time', 'license_id', 'modules',
      'product', 'start_time', 'temporary', 'termination_time',
    ]);
    assert.equal(l.product, 'consul');
    assert.equal(l.installation_id, '*');
    assert.ok(Date.parse(l.expiration_time) > Date.parse('9000-01-01T00:00:00Z'), l.expiration_time);
    assert.ok(Date.parse(l.termination_time) > Date.parse('9000-01-01T00:00:00Z'));
    assert.ok(Date.parse(l.start_time) <= Date.now());
    assert.ok(l.features.includes('Redundancy Zone'));
    assert.ok(l.features.includes('Audit Logging'), 'audit logging is implemented');
    assert.equal(l.features.includes('Network Segments'), false, 'segments are not implemented');
    assert.equal(l.temporary, false);
    assert.equal((await call('GET', '/v1/operator/license?dc=dc9')).status, 500);
  });

  test('PUT and DELETE /v1/operator/license were removed (405, Allow: GET)', async () => {
    for (const method of ['PUT', 'DELETE']) {
      const res = await fetch(`http://${h.agent.httpAddr}/v1/operator/license`, { method, body: method === 'PUT' ? 'blob' : undefined });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'OPTIONS,GET');
    }
  });

  test('license get prints the licence as Consul\'s command does; put and reset fail', async () => {
    const got = await h.cli(['license', 'get']);
    assert.equal(got.code, 0, got.err);
    assert.equal(got.out, [
      'License is valid',
      'License ID: 00000000-0000-0000-0000-000000000000',
      'Customer ID: 00000000-0000-0000-0000-000000000000',
      'Expires At: 9999-12-31 23:59:59 +0000 UTC',
      'Datacenter: *',
      'Package: open',
      'Licensed Features:',
      '\tAutomated Backups', '\tAutomated Upgrades', '\tEnhanced Read Scalability', '\tRedundancy Zone', '\tSSO', '\tAudit Logging',
      '',
    ].join('\n'));
    const put = await h.cli(['license', 'put', 'blob']);
    assert.equal(put.code, 1);
    assert.match(put.err, /^Error putting license: Consul 1\.10 removed license management/);
    const reset = await h.cli(['license', 'reset']);
    assert.equal(reset.code, 1);
    assert.match(reset.err, /^Error resetting license: /);
    const parent = await h.cli(['license']);
    assert.equal(parent.code, 1);
    assert.match(parent.err, /get +Get the active license/);
  });

  test('license inspect shows the open licence, with the given source read but not used', async () => {
    const bare = await runCliCaptured(['license', 'inspect'], {});
    assert.equal(bare.code, 0, bare.err);
    const lines = bare.out.split('\n');
    assert.equal(lines[0], 'Source: built in (Proconsul needs no license)');
    assert.equal(lines[1], 'Product: consul');
    assert.equal(lines[5], 'Issue Time: 1970-01-01 00:00:00 +0000 UTC');
    assert.equal(lines[8], 'Termination Time: 9999-12-31 23:59:59 +0000 UTC');
    assert.deepEqual(lines.slice(-3), ['', 'License is valid', '']);
    const dir = mkdtempSync(join(tmpdir(), 'proconsul-license-'));
    const file = join(dir, 'consul.hclic');
    writeFileSync(file, '02MV4UU43BK5HGYYTOJZWFQMTMNNEWU33JJ\n');
    const fromFile = await runCliCaptured(['license', 'inspect', file], {});
    assert.equal(fromFile.code, 0);
    assert.equal(fromFile.out.split('\n')[0], `Source: ${file}`);
    assert.match(fromFile.err, /license given is not used/);
    const fromEnv = await runCliCaptured(['license', 'inspect'], { CONSUL_LICENSE_PATH: file });
    assert.equal(fromEnv.out.split('\n')[0], `Source: ${file} (path from the CONSUL_LICENSE_PATH environment variable)`);
    const missing = await runCliCaptured(['license', 'inspect', join(dir, 'nope.hclic')], {});
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^Error reading license file: /);
  });

  test('GET /v1/operator/segment lists only the default segment', async () => {
    const r = await call('GET', '/v1/operator/segment');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, ['']);
  });

  test('members ?segment: the default and _all list everyone, another segment is Consul\'s server error', async () => {
    const all = await call('GET', '/v1/agent/members');
    assert.equal((await call('GET', '/v1/agent/members?segment=_all')).text, all.text);
    assert.equal((await call('GET', '/v1/agent/members?segment=')).text, all.text);
    const other = await call('GET', '/v1/agent/members?segment=alpha');
    assert.deepEqual([other.status, other.text], [500, 'Network segments are not supported in this version of Consul']);
    const wan = await call('GET', '/v1/agent/members?wan=1&segment=alpha');
    assert.deepEqual([wan.status, wan.text], [400, 'Cannot provide a segment with wan=true']);
    const cli = await h.cli(['members']);
    assert.equal(cli.code, 0, cli.err);
    const seg = await h.cli(['members', '-segment=alpha']);
    assert.equal(seg.code, 1);
    assert.match(seg.err, /^Error retrieving members: Unexpected response code: 500 \(Network segments are not supported in this version of Consul\)/);
  });

  test('autopilot Enterprise fields round-trip; a PUT resets what it leaves out, as Consul decodes over the defaults', async () => {
    const put = await call('PUT', '/v1/operator/autopilot/configuration', '', {
      RedundancyZoneTag: 'zone', DisableUpgradeMigration: true, UpgradeVersionTag: 'build', MaxTrailingLogs: 300,
    });
    assert.deepEqual([put.status, put.json], [200, true]);
    const got = (await call('GET', '/v1/operator/autopilot/configuration')).json;
    assert.equal(got.RedundancyZoneTag, 'zone');
    assert.equal(got.DisableUpgradeMigration, true);
    assert.equal(got.UpgradeVersionTag, 'build');
    assert.equal(got.MaxTrailingLogs, 300);
    const cli = await h.cli(['operator', 'autopilot', 'get-config']);
    assert.match(cli.out, /\nRedundancyZoneTag = "zone"\nDisableUpgradeMigration = true\nUpgradeVersionTag = "build"\n$/);
    const set = await h.cli(['operator', 'autopilot', 'set-config', '-redundancy-zone-tag=az', '-disable-upgrade-migration=false']);
    assert.equal(set.code, 0, set.err);
    const after = (await call('GET', '/v1/operator/autopilot/configuration')).json;
    assert.deepEqual([after.RedundancyZoneTag, after.DisableUpgradeMigration, after.UpgradeVersionTag, after.MaxTrailingLogs], ['az', false, 'build', 300]);
    // Consul decodes the body over api.NewAutopilotConfiguration(): left-out fields take the defaults.
    assert.equal((await call('PUT', '/v1/operator/autopilot/configuration', '', { CleanupDeadServers: false })).status, 200);
    const reset = (await call('GET', '/v1/operator/autopilot/configuration')).json;
    assert.deepEqual([reset.CleanupDeadServers, reset.RedundancyZoneTag, reset.UpgradeVersionTag, reset.MaxTrailingLogs], [false, '', '', 250]);
    const bad = await call('PUT', '/v1/operator/autopilot/configuration', '', { RedundancyZoneTag: 5 });
    assert.deepEqual([bad.status, bad.text], [400,
      'Error parsing autopilot config: json: cannot unmarshal number into Go struct field AutopilotConfiguration.RedundancyZoneTag of type string']);
    const neg = await call('PUT', '/v1/operator/autopilot/configuration', '', { MaxTrailingLogs: -1 });
    assert.equal(neg.text, 'Error parsing autopilot config: json: cannot unmarshal number -1 into Go struct field AutopilotConfiguration.MaxTrailingLogs of type uint64');
    // ?cas and an empty body fail with the texts of Go's strconv.ParseUint and json.Decoder.
    const badCas = await call('PUT', '/v1/operator/autopilot/configuration?cas=abc', '', { CleanupDeadServers: true });
    assert.deepEqual([badCas.status, badCas.text], [400, 'Error parsing cas value: strconv.ParseUint: parsing "abc": invalid syntax']);
    const hugeCas = await call('PUT', '/v1/operator/autopilot/configuration?cas=99999999999999999999', '', { CleanupDeadServers: true });
    assert.deepEqual([hugeCas.status, hugeCas.text], [400, 'Error parsing cas value: strconv.ParseUint: parsing "99999999999999999999": value out of range']);
    const empty = await fetch(`http://${h.agent.httpAddr}/v1/operator/autopilot/configuration`, { method: 'PUT' });
    assert.deepEqual([empty.status, await empty.text()], [400, 'Error parsing autopilot config: EOF']);
  });

  test('control-plane-request-limit is stored with Consul\'s RateLimitIPConfigEntry shape', async () => {
    const put = await call('PUT', '/v1/config', '', { kind: 'control-plane-request-limit', name: 'global', mode: 'enforcing', read_rate: 10, kv: { read_rate: 5, write_rate: 2 } });
    assert.deepEqual([put.status, put.json], [200, true], put.text);
    const got = (await call('GET', '/v1/config/control-plane-request-limit/global')).json;
    assert.deepEqual({ ...got, CreateIndex: 0, ModifyIndex: 0 }, {
      Kind: 'control-plane-request-limit', Name: 'global', Mode: 'enforcing', ReadRate: 10, WriteRate: 0,
      KV: { ReadRate: 5, WriteRate: 2 }, CreateIndex: 0, ModifyIndex: 0,
    });
    // Mode, ReadRate and WriteRate have no omitempty in Consul's struct: they read back as zero values.
    assert.equal((await call('PUT', '/v1/config', '', { Kind: 'control-plane-request-limit', Name: 'bare' })).status, 200);
    const bare = (await call('GET', '/v1/config/control-plane-request-limit/bare')).json;
    assert.deepEqual([bare.Mode, bare.ReadRate, bare.WriteRate, 'KV' in bare], ['', 0, 0, false]);
    const bad = await call('PUT', '/v1/config', '', { Kind: 'control-plane-request-limit', Name: 'x', Catalog: { Bogus: 1 } });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /invalid config key "Catalog\.Bogus"/);
  });
});

describe('a client agent', () => {
  let agent: ClientAgent;
  before(async () => {
    agent = createClientAgent(devConfig({ server: false, bootstrap: false, nodeName: 'lonely' }), { logger: silentLogger() });
    await agent.start();
  });
  after(() => agent.stop());

  test('answers members of another segment with its own "not found" error', async () => {
    const r = await agent.http.handle({ method: 'GET', url: '/v1/agent/members?segment=alpha' });
    assert.deepEqual([r.status, r.body.toString()], [500, 'segment "alpha" not found']);
    const all = await agent.http.handle({ method: 'GET', url: '/v1/agent/members?segment=_all' });
    assert.equal(all.status, 200);
  });
});

test('operator/segment needs operator:read; the licence needs no token', async () => {
  const a = await startAclAgent();
  try {
    const call = httpCaller(() => a.httpAddr);
    const denied = await call('GET', '/v1/operator/segment');
    assert.equal(denied.status, 403);
    assert.match(denied.text, /^Permission denied: token with AccessorID '.+' lacks permission 'operator:read'/);
    const reader = await tokenWithRules(call, 'operator = "read"');
    assert.equal((await call('GET', '/v1/operator/segment', reader.SecretID)).status, 200);
    assert.equal((await call('GET', '/v1/operator/segment', ROOT)).status, 200);
    assert.equal((await call('GET', '/v1/operator/license')).status, 200);
  } finally {
    await a.stop();
  }
});
