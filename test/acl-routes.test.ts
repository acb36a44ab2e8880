// The generated ACL acceptance test: every route of the agent's route table × {no token, unknown
// token, a least-privilege token that does not cover the resource, one that does, management},
// checked against the decision declared in support/acl-route-table.ts. A route missing there fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';
import { COORD, ROUTE_CASES, type RouteCase } from './support/acl-route-table.ts';

const ROOT = 'root';
const ANON = '00000000-0000-0000-0000-000000000002';
const FILTERED = 'x-consul-results-filtered-by-acls';
const fx: Record<string, string> = {
  pem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};
let a: DevAgent;

interface Answer { status: number; text: string; json: any; filtered: string | undefined }

function subst(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\{(\w+)\}/g, (m, k: string) => fx[k] ?? m);
  if (Array.isArray(v)) return v.map(subst);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, subst(x)]));
  return v;
}

async function call(method: string, path: string, token: string, body?: unknown, stream = false): Promise<Answer> {
  const res = await a.agent.http.handle({
    method, url: subst(path) as string, headers: token ? { 'X-Consul-Token': token } : {},
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(subst(body)),
    signal: stream ? AbortSignal.timeout(50) : undefined,
  });
  const text = res.body.toString('utf8');
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json, filtered: res.headers['X-Consul-Results-Filtered-By-ACLs'] };
}

async function ok(method: string, path: string, body?: unknown): Promise<any> {
  const r = await call(method, path, ROOT, body);
  assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
  return r.json;
}

const tokens = new Map<string, { SecretID: string; AccessorID: string }>();
async function tokenWith(rules: string): Promise<{ SecretID: string; AccessorID: string }> {
  const known = tokens.get(rules);
  if (known) return known;
  const p = await ok('PUT', '/v1/acl/policy', { Name: `p${tokens.size}`, Rules: rules });
  const t = await ok('PUT', '/v1/acl/token', { Policies: [{ ID: p.ID }] });
  tokens.set(rules, t);
  return t;
}

function rule(resource: string, access: string, on: string | undefined): string {
  // Intention rules live in service blocks.
  if (resource === 'intention') return `service "${on}" { policy = "deny"\n intentions = "${access}" }`;
  return on === undefined || on === '' ? `${resource} = "${access}"` : `${resource} "${on}" { policy = "${access}" }`;
}

// Least privilege that just misses: read where write is needed, else the same level elsewhere.
function missRule(resource: string, access: string, on: string | undefined): string {
  if (access !== 'read') return rule(resource, 'read', on);
  if (on) return rule(resource, 'write', 'zz-other');
  // operator rules also grant mesh and peering (Consul's fallback), so those miss with keyring too.
  return rule(resource === 'operator' || resource === 'mesh' || resource === 'peering' ? 'keyring' : 'operator', 'write', '');
}

function denial(accessor: string, c: RouteCase): string {
  return `Permission denied: token with AccessorID '${accessor}' lacks permission '${c.need}'${c.on ? ` on "${c.on}"` : ''}`;
}

async function fixtures(): Promise<void> {
  for (const k of ['app/db', 'app/gone']) await ok('PUT', `/v1/kv/${k}`, 'v');
  const reg = (body: unknown) => ok('PUT', '/v1/catalog/register', body);
  await reg({ Node: 'n1', Address: '10.0.0.1', Service: { Service: 'api', Port: 80 }, Checks: [{ CheckID: 'n1-check', Name: 'n1' }, { CheckID: 'api-check', Name: 'api', ServiceID: 'api' }] });
  await reg({ Node: 'n1', Address: '10.0.0.1', Service: { Kind: 'connect-proxy', Service: 'api-proxy', Port: 21000, Proxy: { DestinationServiceName: 'api' } } });
  await reg({ Node: 'n1', Address: '10.0.0.1', Service: { Kind: 'ingress-gateway', Service: 'igw', Port: 8080 } });
  await reg({ Node: 'gone-node', Address: '10.0.0.2' });
  for (const name of ['web', 'gone']) await ok('PUT', '/v1/agent/service/register', { Name: name });
  for (const id of ['ttl-pass', 'ttl-warn', 'ttl-fail', 'ttl-update', 'ttl-dereg']) {
    await ok('PUT', '/v1/agent/check/register', { ID: id, Name: id, TTL: '10m', ServiceID: 'web' });
  }
  for (const n of [1, 2, 3]) fx[`session${n}`] = (await ok('PUT', '/v1/session/create', { Node: 'test-node', Checks: [] })).ID;
  fx.query = (await ok('POST', '/v1/query', { Name: 'acl-q', Service: { Service: 'api', IgnoreCheckIDs: ['n1-check', 'api-check'] } })).ID;
  fx.queryDel = (await ok('POST', '/v1/query', { Name: 'acl-q-del', Service: { Service: 'api' } })).ID;
  for (const name of ['web', 'web-del']) await ok('PUT', '/v1/config', { Kind: 'service-defaults', Name: name, Protocol: 'http' });
  await ok('PUT', '/v1/config', { Kind: 'ingress-gateway', Name: 'igw', Listeners: [{ Port: 8080, Protocol: 'tcp', Services: [{ Name: 'api' }] }] });
  await ok('PUT', '/v1/connect/intentions/exact?source=ixn-src&destination=ixn-dst', { Action: 'allow' });
  fx.ixn = (await ok('POST', '/v1/connect/intentions', { SourceName: 'lsrc', DestinationName: 'ixn-legacy', Action: 'allow' })).ID;
  fx.ixnDel = (await ok('POST', '/v1/connect/intentions', { SourceName: 'lsrc', DestinationName: 'ixn-legacy-del', Action: 'allow' })).ID;
  await ok('PUT', '/v1/event/fire/deploy');
  await ok('PUT', '/v1/coordinate/update', { Node: 'n1', Coord: COORD });
  await a.agent.endpoints.coordinate.flush();
  fx.policy = (await ok('PUT', '/v1/acl/policy', { Name: 'victim-policy', Rules: '' })).ID;
  fx.role = (await ok('PUT', '/v1/acl/role', { Name: 'victim-role' })).ID;
  fx.token = (await ok('PUT', '/v1/acl/token', { Description: 'victim' })).AccessorID;
  for (const name of ['victim-method', 'keep-method']) {
    await ok('PUT', '/v1/acl/auth-method', { Name: name, Type: 'jwt', Config: { JWTValidationPubKeys: ['{pem}'] } });
  }
  for (const name of ['acl-ns', 'acl-ns-gone']) await ok('PUT', '/v1/namespace', { Name: name });
  for (const name of ['acl-part', 'acl-part-gone']) await ok('PUT', '/v1/partition', { Name: name });
  fx.rule = (await ok('PUT', '/v1/acl/binding-rule', { AuthMethod: 'keep-method', BindType: 'service', BindName: 'x' })).ID;
}

before(async () => {
  const acl = { ...devConfig().acl, enabled: true, defaultPolicy: 'deny' as const, tokens: { ...devConfig().acl.tokens, initialManagement: ROOT } };
  a = await startDevAgent({ config: { acl }, deps: { shutdown: () => {} } });
  await fixtures();
});
after(() => a.stop());

function allowedAnswer(r: Answer, what: string): void {
  assert.notEqual(r.status, 403, `${what} must be allowed: ${r.text}`);
}

function deniedAnswer(r: Answer, c: RouteCase, accessor: string, what: string): void {
  if (c.txn) {
    assert.equal(r.status, 409, `${what}: ${r.text}`);
    assert.equal(r.json.Errors[0].What, denial(accessor, c), what);
    return;
  }
  assert.equal(r.status, 403, `${what} must be denied: ${r.text}`);
  assert.equal(r.text, c.bare ? 'Permission denied' : denial(accessor, c), what);
}

function filteredAnswer(r: Answer, c: RouteCase, header: boolean, what: string): void {
  assert.equal(r.status, 200, `${what}: ${r.text}`);
  assert.equal(c.sees!(r.json), false, `${what} must not see the resource: ${r.text}`);
  assert.equal(r.filtered, header ? 'true' : undefined, `${what}: X-Consul-Results-Filtered-By-ACLs`);
}

async function check(key: string, c: RouteCase): Promise<void> {
  const [method] = key.split(' ');
  const send = (token: string) => call(method, c.path, token, c.body, c.stream);
  const unknown = await send('no-such-token');
  if (c.answers) {
    for (const [who, t] of [['anonymous', ''], ['unknown', 'no-such-token'], ['management', ROOT]] as const) {
      const r = await send(t);
      const [status, text]: [number, string] = c.answers[who];
      assert.equal(r.status, status, `${who}: ${r.text}`);
      assert.ok(r.text.startsWith(text), `${who}: ${r.text}`);
    }
    return;
  }
  if (c.open) {
    if (c.resolves) assert.equal(unknown.text, 'ACL not found');
    else allowedAnswer(unknown, 'an unknown token on an open route');
    allowedAnswer(await send(''), 'anonymous on an open route');
    allowedAnswer(await send(ROOT), 'management');
    return;
  }
  assert.equal(unknown.status, 403, unknown.text);
  assert.equal(unknown.text, 'ACL not found');
  const [resource, access] = c.need!.split(':');
  const also = c.also ? `\n${c.also}` : '';
  const miss = await tokenWith(missRule(resource, access, c.on) + also);
  const cover = await tokenWith(rule(resource, access, c.on) + also);
  if (c.sees) {
    filteredAnswer(await send(''), c, false, 'anonymous');
    filteredAnswer(await send(miss.SecretID), c, !c.quiet, 'a token that does not cover it');
    for (const [t, what] of [[cover.SecretID, 'a covering token'], [ROOT, 'management']]) {
      const r = await send(t);
      assert.equal(r.status, 200, `${what}: ${r.text}`);
      assert.ok(c.sees(r.json), `${what} must see the resource: ${r.text}`);
    }
    return;
  }
  deniedAnswer(await send(''), c, ANON, 'anonymous');
  deniedAnswer(await send(miss.SecretID), c, miss.AccessorID, 'a token that does not cover it');
  allowedAnswer(await send(cover.SecretID), 'a covering token');
  allowedAnswer(await send(ROOT), 'management');
}

test('every route in the route table declares its ACL decision, and no stale decision is kept', () => {
  const keys = a.agent.http.routes().map((r) => `${r.method} ${r.pattern}`);
  assert.deepEqual(keys.filter((k) => !ROUTE_CASES[k]), [], 'routes without an ACL decision in test/support/acl-route-table.ts');
  assert.deepEqual(Object.keys(ROUTE_CASES).filter((k) => !keys.includes(k)), [], 'decisions for routes that no longer exist');
});

test('each route enforces its ACL decision for all five callers', async (t) => {
  const routes = a.agent.http.routes().map((r) => `${r.method} ${r.pattern}`).filter((k) => ROUTE_CASES[k]);
  routes.sort((x, y) => Number(ROUTE_CASES[x].last === true) - Number(ROUTE_CASES[y].last === true));
  for (const key of routes) await t.test(key, () => check(key, ROUTE_CASES[key]));
});
