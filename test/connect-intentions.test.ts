// Intentions end to end against a dev agent over HTTP: the exact by-name API writing the
// destination's service-intentions entry, list with ?filter, match in Consul's precedence order,
// check with the default decision, Consul's texts, and ACLs (default deny) on a second agent.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';
import { cliAgent } from './support/cli.ts';

interface Res { status: number; index: number; body: any; text: string }

function caller(agent: () => DevAgent) {
  return async (method: string, path: string, body?: unknown, token?: string): Promise<Res> => {
    const res = await fetch(`http://${agent().httpAddr}${path}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body), headers: token ? { 'X-Consul-Token': token } : {},
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch { /* error texts are plain */ }
    return { status: res.status, index: Number(res.headers.get('x-consul-index') ?? 0), body: parsed, text };
  };
}

const exact = (src: string, dst: string) => `/v1/connect/intentions/exact?source=${encodeURIComponent(src)}&destination=${encodeURIComponent(dst)}`;

describe('intentions against a dev agent', () => {
  const dev = cliAgent();
  const call = caller(() => dev.agent);

  test('exact upsert, read and delete are a view over the destination service-intentions entry', async () => {
    const put = await call('PUT', exact('web', 'db'), { Action: 'allow', Description: 'first', ID: 'ignored', SourceName: 'ignored' });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body, true);
    const got = await call('GET', exact('web', 'db'));
    assert.equal(got.status, 200);
    const entry = (await call('GET', '/v1/config/service-intentions/db')).body;
    assert.deepEqual(got.body, {
      Description: 'first', SourceNS: 'default', SourceName: 'web', DestinationNS: 'default', DestinationName: 'db',
      SourceType: 'consul', Action: 'allow', Precedence: 9, CreateIndex: entry.CreateIndex, ModifyIndex: entry.ModifyIndex,
    });
    assert.equal(got.index, entry.ModifyIndex);
    assert.deepEqual(entry.Sources, [{ Name: 'web', Action: 'allow', Precedence: 9, Type: 'consul', Description: 'first' }]);
    // A second source joins the same entry; an upsert replaces a source in place.
    assert.equal((await call('PUT', exact('*', 'db'), { Action: 'deny' })).status, 200);
    assert.equal((await call('PUT', exact('web', 'db'), { Action: 'deny' })).status, 200);
    const sources = (await call('GET', '/v1/config/service-intentions/db')).body.Sources;
    assert.deepEqual(sources.map((s: any) => [s.Name, s.Action, s.Precedence]), [['web', 'deny', 9], ['*', 'deny', 8]]);
    assert.equal((await call('DELETE', exact('web', 'db'))).body, true);
    assert.equal((await call('DELETE', exact('web', 'db'))).body, true, 'deletes are idempotent');
    const missing = await call('GET', exact('web', 'db'));
    assert.deepEqual([missing.status, missing.text], [404, 'Intention not found']);
    // The last source's deletion removes the entry.
    await call('DELETE', exact('*', 'db'));
    assert.equal((await call('GET', '/v1/config/service-intentions/db')).status, 404);
  });

  test("Consul's parameter and validation texts", async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['PUT', '/v1/connect/intentions/exact?destination=db', { Action: 'allow' }, 500, "required query parameter 'source' not set"],
      ['PUT', '/v1/connect/intentions/exact?source=&destination=db', { Action: 'allow' }, 500, "required query parameter 'source' not set"],
      ['GET', '/v1/connect/intentions/exact?source=web', undefined, 500, "required query parameter 'destination' not set"],
      ['PUT', exact('web', 'db'), undefined, 400, 'Request decode failed: EOF'],
      ['PUT', exact('web', 'db'), { Action: 1 }, 400, 'Request decode failed: json: cannot unmarshal number into Go struct field Intention.Action of type structs.IntentionAction'],
      ['PUT', exact('web', 'db'), {}, 500, "Sources[0].Action must be set to 'allow' or 'deny'"],
      ['PUT', exact('web', 'db'), { Action: 'allow', SourceType: 'x' }, 500, "Sources[0].Type must be set to 'consul'"],
      ['PUT', exact('w*', 'db'), { Action: 'allow' }, 500, "Sources[0].Name: wildcard character '*' cannot be used with partial values"],
      ['PUT', exact('web', 'db'), { Action: 'allow', Meta: { a: 'b' } }, 500, 'Meta must not be specified'],
      ['PUT', exact('web', 'db'), { Action: 'allow', SourcePeer: 'p' }, 500, 'SourcePeer field is not supported on this endpoint. Use config entries instead'],
      ['PUT', exact('peer:p/web', 'db'), { Action: 'allow' }, 500, 'source "peer:p/web" is invalid: cannot specify a peer here'],
      ['PUT', exact('web', '*'), { Permissions: [{ Action: 'allow', HTTP: { PathPrefix: '/' } }] }, 500, 'Sources[0].Permissions cannot be specified on intentions with wildcarded destinations'],
      ['GET', '/v1/connect/intentions/match?name=db', undefined, 500, "required query parameter 'by' not set"],
      ['GET', '/v1/connect/intentions/match?by=x&name=db', undefined, 500, "'by' parameter must be one of 'source' or 'destination'"],
      ['GET', '/v1/connect/intentions/match?by=source', undefined, 500, "required query parameter 'name' not set"],
      ['GET', '/v1/connect/intentions/check?source=web', undefined, 500, "required query parameter 'destination' not set"],
      ['GET', '/v1/connect/intentions/check?source=web&destination=db&source-type=x', undefined, 500, 'unsupported SourceType: "x"'],
    ];
    for (const [method, path, body, status, text] of cases) {
      const r = await call(method, path, body);
      assert.deepEqual([r.status, r.text], [status, text], `${method} ${path}`);
    }
    const meta = await call('PUT', '/v1/config', { Kind: 'service-intentions', Name: 'm', Meta: { a: 'b' }, Sources: [{ Name: 'x', Action: 'allow' }] });
    assert.equal(meta.status, 200, meta.text);
    assert.equal((await call('PUT', exact('y', 'm'), { Action: 'allow', Meta: { a: 'c' } })).text, 'Meta must not be specified, or should be unchanged during an update.');
    assert.equal((await call('PUT', exact('y', 'm'), { Action: 'allow', Meta: { a: 'b' } })).status, 200);
    assert.deepEqual((await call('GET', exact('y', 'm'))).body.Meta, { a: 'b' }, 'the entry meta shows on its intentions');
    assert.equal((await call('PUT', '/v1/config', { Kind: 'service-intentions', Name: 'pd', Sources: [{ Name: 'web', Peer: 'p1', Action: 'deny' }] })).status, 200);
    const peered = await call('GET', exact('peer:p1/web', 'pd'));
    assert.deepEqual([peered.body.SourcePeer, peered.body.Action], ['p1', 'deny']);
    assert.equal((await call('GET', exact('web', 'pd'))).status, 404, 'a local source is not the peered one');
    assert.equal((await call('PUT', exact('peer:p1/web', 'pd'), { Action: 'allow' })).text, 'source "peer:p1/web" is invalid: cannot specify a peer here');
    await call('DELETE', '/v1/config/service-intentions/pd');
    const bad = await call('POST', '/v1/connect/intentions/exact');
    assert.equal(bad.status, 405);
    await call('DELETE', '/v1/config/service-intentions/m');
  });

  test('list, match and check in precedence order with wildcards and the default decision', async () => {
    for (const [src, dst, action] of [['web', 'db', 'allow'], ['*', 'db', 'deny'], ['web', '*', 'deny'], ['*', '*', 'allow'], ['api', 'db', 'allow']]) {
      assert.equal((await call('PUT', exact(src, dst), { Action: action })).status, 200);
    }
    assert.equal((await call('PUT', exact('api', 'cache'), { Permissions: [{ Action: 'allow', HTTP: { PathPrefix: '/' } }] })).status, 200);
    const list = await call('GET', '/v1/connect/intentions');
    assert.deepEqual(list.body.map((i: any) => `${i.SourceName}>${i.DestinationName}:${i.Precedence}`), [
      'api>cache:9', 'api>db:9', 'web>db:9', '*>db:8', 'web>*:6', '*>*:5',
    ]);
    assert.deepEqual(list.body[0].Permissions, [{ Action: 'allow', HTTP: { PathPrefix: '/' } }]);
    assert.equal(list.body[0].Action, undefined);
    const filtered = await call('GET', `/v1/connect/intentions?filter=${encodeURIComponent('Action == deny')}`);
    assert.deepEqual(filtered.body.map((i: any) => `${i.SourceName}>${i.DestinationName}`), ['*>db', 'web>*']);
    const undescribed = await call('GET', `/v1/connect/intentions?filter=${encodeURIComponent('Description == "" and Meta is empty')}`);
    assert.equal(undescribed.body.length, 6, 'omitted fields filter as their zero values');
    const byDst = await call('GET', '/v1/connect/intentions/match?by=destination&name=db&name=none');
    assert.deepEqual(Object.keys(byDst.body), ['db', 'none']);
    assert.deepEqual(byDst.body.db.map((i: any) => `${i.SourceName}>${i.DestinationName}`), ['api>db', 'web>db', '*>db', 'web>*', '*>*']);
    assert.deepEqual(byDst.body.none.map((i: any) => `${i.SourceName}>${i.DestinationName}`), ['web>*', '*>*']);
    const bySrc = await call('GET', '/v1/connect/intentions/match?by=source&name=web');
    assert.deepEqual(bySrc.body.web.map((i: any) => `${i.SourceName}>${i.DestinationName}`), ['web>db', '*>db', 'web>*', '*>*']);
    const check = async (s: string, d: string) => (await call('GET', `/v1/connect/intentions/check?source=${s}&destination=${d}`)).body;
    assert.deepEqual(await check('web', 'db'), { Allowed: true });
    assert.deepEqual(await check('other', 'db'), { Allowed: false });
    assert.deepEqual(await check('web', 'other'), { Allowed: false });
    assert.deepEqual(await check('other', 'other'), { Allowed: true });
    assert.deepEqual(await check('api', 'cache'), { Allowed: false }, 'L7 intentions deny at L4');
    await call('DELETE', exact('*', '*'));
    assert.deepEqual(await check('other', 'other'), { Allowed: true }, 'no match: allowed without ACLs');
  });
});

describe('agent connect authorize against a dev agent', () => {
  const dev = cliAgent();
  const call = caller(() => dev.agent);
  const uri = (svc: string, ns = 'default') => `spiffe://11111111-2222-3333-4444-555555555555.consul/ns/${ns}/dc/dc1/svc/${svc}`;
  const authz = async (target: string, client: string) => call('POST', '/v1/agent/connect/authorize', { Target: target, ClientCertURI: client, ClientCertSerial: '01' });

  test("decides by the destination's intentions with Consul's reasons", async () => {
    await call('PUT', exact('web', 'db'), { Action: 'allow' });
    await call('PUT', exact('*', 'db'), { Action: 'deny' });
    await call('PUT', exact('api', 'cache'), { Permissions: [{ Action: 'allow', HTTP: { PathPrefix: '/' } }] });
    assert.deepEqual((await authz('db', uri('web'))).body, { Authorized: true, Reason: 'Matched L4 intention: web => db (Action: ALLOW, Precedence: 9)' });
    assert.deepEqual((await authz('db', uri('other'))).body, { Authorized: false, Reason: 'Matched L4 intention: * => db (Action: DENY, Precedence: 8)' });
    assert.deepEqual((await authz('cache', uri('api'))).body, { Authorized: false, Reason: 'Matched L7 intention: api => cache (Permissions: 1, Precedence: 9)' });
    assert.deepEqual((await authz('none', uri('web'))).body, { Authorized: true, Reason: 'Default behavior configured by ACLs' });
    // Another trust domain is not refused (Consul does not compare it).
    assert.equal((await authz('db', 'spiffe://other.consul/ns/default/dc/dc1/svc/web')).body.Authorized, true);
  });

  test("Consul's request errors", async () => {
    const cases: [unknown, string][] = [
      [{ ClientCertURI: uri('web') }, 'Target service must be specified'],
      [{ Target: 'db', ClientCertURI: 'http://x' }, 'ClientCertURI not a valid Connect identifier'],
      [{ Target: 'db', ClientCertURI: 'spiffe://x.consul/agent/client/dc/dc1/id/n1' }, 'ClientCertURI not a valid Service identifier'],
      [{ Target: 1 }, 'Request decode failed: json: cannot unmarshal number into Go struct field ConnectAuthorizeRequest.Target of type string'],
    ];
    for (const [body, text] of cases) {
      const r = await call('POST', '/v1/agent/connect/authorize', body);
      assert.deepEqual([r.status, r.text], [400, text], JSON.stringify(body));
    }
  });
});

describe('deprecated ID-based intentions against a dev agent', () => {
  const dev = cliAgent();
  const call = caller(() => dev.agent);

  test('create, read, update and delete by ID keep LegacyID, times and meta in the entry', async () => {
    const created = await call('POST', '/v1/connect/intentions', { SourceName: 'web', DestinationName: 'db', Action: 'allow', Meta: { k: 'v' } });
    assert.equal(created.status, 200, created.text);
    const id = created.body.ID;
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const got = (await call('GET', `/v1/connect/intentions/${id}`)).body;
    assert.equal(got.ID, id);
    assert.deepEqual(got.Meta, { k: 'v' });
    assert.equal(got.CreatedAt, got.UpdatedAt);
    assert.ok(!Number.isNaN(Date.parse(got.CreatedAt)));
    const src = (await call('GET', '/v1/config/service-intentions/db')).body.Sources[0];
    assert.deepEqual([src.LegacyID, src.LegacyMeta], [id, { k: 'v' }]);
    assert.equal((await call('GET', exact('web', 'db'))).body.ID, id, 'the exact API sees legacy intentions');
    const upd = await call('PUT', `/v1/connect/intentions/${id}`, { SourceName: 'api', DestinationName: 'db', Action: 'deny' });
    assert.deepEqual([upd.status, upd.body], [200, { ID: id }]);
    const after = (await call('GET', `/v1/connect/intentions/${id}`)).body;
    assert.deepEqual([after.SourceName, after.Action, after.CreatedAt, after.Meta], ['api', 'deny', got.CreatedAt, undefined]);
    const moved = await call('PUT', `/v1/connect/intentions/${id}`, { SourceName: 'api', DestinationName: 'other', Action: 'deny' });
    assert.equal(moved.text, 'Cannot modify Destination partition/namespace/name for an intention once it exists.');
    assert.equal((await call('DELETE', `/v1/connect/intentions/${id}`)).body, true);
    assert.deepEqual([(await call('GET', `/v1/connect/intentions/${id}`)).status], [404]);
    assert.equal((await call('DELETE', `/v1/connect/intentions/${id}`)).text, `Cannot delete non-existent intention: '${id}'`);
    assert.equal((await call('PUT', `/v1/connect/intentions/${id}`, { SourceName: 'a', DestinationName: 'db', Action: 'deny' })).text, `Cannot modify non-existent intention: '${id}'`);
  });

  test("Consul's legacy texts", async () => {
    const r = await call('POST', '/v1/connect/intentions', { ID: 'x', SourceName: 'a', DestinationName: 'b', Action: 'allow' });
    assert.deepEqual([r.status, r.text], [500, 'ID must be empty when creating a new intention']);
    const bad = await call('POST', '/v1/connect/intentions', { SourceName: '', DestinationName: 'b', Action: 'x' });
    assert.equal(bad.text, "2 errors occurred:\n\t* SourceName must be set\n\t* Action must be set to 'allow' or 'deny'\n\n");
    await call('PUT', exact('web', 'cfg'), { Action: 'allow' });
    const mixed = await call('POST', '/v1/connect/intentions', { SourceName: 'api', DestinationName: 'cfg', Action: 'allow' });
    assert.equal(mixed.text, 'cannot use legacy intention API to edit intentions with a destination of "cfg" after editing them via a service-intentions config entry');
  });
});

describe('the intention CLI against a dev agent', () => {
  const dev = cliAgent();

  test('create, get, list, match, check and delete with Consul\'s output', async () => {
    assert.deepEqual(await dev.cli(['intention', 'create', 'web', 'db']), { code: 0, out: 'Created: web => db (allow)\n', err: '' });
    assert.equal((await dev.cli(['intention', 'create', '-deny', '-meta', 'team=a', '*', 'db'])).out, 'Created: * => db (deny)\n');
    const both = await dev.cli(['intention', 'create', '-allow', '-deny', 'a', 'b']);
    assert.deepEqual([both.code, both.err], [1, 'Only one of -allow or -deny may be specified.\n']);
    assert.equal((await dev.cli(['intention', 'create', 'web'])).err, 'Error: Must specify two arguments: source and destination\n');
    const dup = await dev.cli(['intention', 'create', 'web', 'db']);
    assert.equal(dup.code, 1);
    assert.match(dup.err, /^Error creating intention "web => db \(allow\)": Unexpected response code: 500 \(Sources\[\d\] defines "web" more than once\)/);
    assert.deepEqual(await dev.cli(['intention', 'create', '-replace', '-deny', 'web', 'db']), { code: 0, out: '', err: '' });
    const get = await dev.cli(['intention', 'get', 'web', 'db']);
    assert.equal(get.code, 0, get.err);
    const lines = get.out.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 3), ['Source:       web', 'Destination:  db', 'Action:       deny']);
    assert.match(lines[3], /^ID:\s+[0-9a-f-]{36}$/);
    assert.match(lines[4], /^Created At:\s+\w+day, \d\d-\w{3}-\d\d \d\d:\d\d:\d\d UTC$/);
    const id = lines[3].split(/\s+/)[1];
    const list = await dev.cli(['intention', 'list']);
    assert.equal(list.out.split('\n')[0], `ID${' '.repeat(36)}Source  Action  Destination  Precedence`);
    assert.match(list.out, new RegExp(`${id}  web     deny    db           9`));
    assert.equal((await dev.cli(['intention', 'match', 'db'])).out, 'web => db (deny)\n* => db (deny)\n');
    assert.equal((await dev.cli(['intention', 'match', '-source', 'api'])).out, '* => db (deny)\n');
    assert.deepEqual(await dev.cli(['intention', 'check', 'web', 'db']), { code: 1, out: 'Denied\n', err: '' });
    assert.deepEqual(await dev.cli(['intention', 'check', 'other', 'cache']), { code: 0, out: 'Allowed\n', err: '' });
    assert.equal((await dev.cli(['intention', 'check', 'web'])).code, 2);
    assert.deepEqual(await dev.cli(['intention', 'delete', id]), { code: 0, out: 'Intention deleted.\n', err: '' });
    assert.equal((await dev.cli(['intention', 'get', 'web', 'db'])).err, 'Intention not found with source "web" and destination "db"\n');
    assert.deepEqual(await dev.cli(['intention', 'delete', '*', 'db']), { code: 0, out: 'Intention deleted.\n', err: '' });
    assert.deepEqual(await dev.cli(['intention', 'list']), { code: 2, out: '', err: 'There are no intentions.\n' });
    assert.equal((await dev.cli(['intention', 'create', '-file', '-'], JSON.stringify({ SourceName: 'a', DestinationName: 'b', Action: 'allow' }))).out, 'Created: a => b (allow)\n');
    // Keys api.Intention lacks are dropped by the CLI, as Consul's json.Decoder does; the server would refuse them.
    const loose = await dev.cli(['intention', 'create', '-file', '-'], JSON.stringify({ sourcename: 'c', DestinationName: 'd', Action: 'deny', Legacy: true }));
    assert.deepEqual(loose, { code: 0, out: 'Created: c => d (deny)\n', err: '' });
  });
});

describe('intentions under ACLs with default deny', () => {
  let a: DevAgent;
  const call = caller(() => a);
  before(async () => {
    const acl = { ...devConfig().acl, enabled: true, defaultPolicy: 'deny' as const, tokens: { ...devConfig().acl.tokens, initialManagement: 'root' } };
    a = await startDevAgent({ config: { acl }, deps: { shutdown: () => {} } });
  });
  after(() => a.stop());

  test('the default decision follows the ACL default policy; intentions:write is needed on the destination', async () => {
    const policy = (await call('PUT', '/v1/acl/policy', { Name: 'ixn', Rules: 'service "db" { policy = "read"\n intentions = "write" }' }, 'root')).body;
    const token = (await call('PUT', '/v1/acl/token', { Policies: [{ ID: policy.ID }] }, 'root')).body.SecretID;
    assert.deepEqual((await call('GET', '/v1/connect/intentions/check?source=web&destination=db', undefined, token)).body, { Allowed: false });
    const denied = await call('PUT', exact('web', 'other'), { Action: 'allow' }, token);
    assert.deepEqual([denied.status, denied.text], [403, 'Permission denied']);
    assert.equal((await call('PUT', exact('web', 'db'), { Action: 'allow' }, token)).status, 200);
    assert.deepEqual((await call('GET', '/v1/connect/intentions/check?source=web&destination=db', undefined, token)).body, { Allowed: true });
    const list = await call('GET', '/v1/connect/intentions', undefined, token);
    assert.equal(list.body.length, 1);
    const anon = await call('GET', '/v1/connect/intentions');
    assert.deepEqual(anon.body, []);
    const writer = (await call('PUT', '/v1/acl/policy', { Name: 'svc', Rules: 'service "api" { policy = "write" }' }, 'root')).body;
    const wtoken = (await call('PUT', '/v1/acl/token', { Policies: [{ ID: writer.ID }] }, 'root')).body.SecretID;
    const body = { Target: 'api', ClientCertURI: 'spiffe://x.consul/ns/default/dc/dc1/svc/web' };
    assert.deepEqual((await call('POST', '/v1/agent/connect/authorize', body, wtoken)).body, { Authorized: false, Reason: 'Default behavior configured by ACLs' });
    assert.equal((await call('POST', '/v1/agent/connect/authorize', { ...body, Target: 'db' }, wtoken)).status, 403);
  });
});
