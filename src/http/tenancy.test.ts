// entInput and the tenancy modes of queryOptions: query over header, `default` the same as
// nothing, `*` only where the handler allows it, names checked; handlers not converted keep CE's 400.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entInput, requestEnt } from './tenancy.ts';
import { queryOptions, sharedQueryOptions, type HttpRequest, type RequestConfig } from './request.ts';
import { DEFAULT_ENT } from '../state/index.ts';
import type { AclIdentity } from '../endpoint/index.ts';

const cfg: RequestConfig = { datacenter: 'dc1', defaultToken: '' };

function mk(query: string, headers: Record<string, string> = {}): HttpRequest {
  return {
    method: 'GET', path: '/v1/kv/x', params: { rest: 'x' }, query: new URLSearchParams(query),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    remoteAddr: '127.0.0.1', signal: new AbortController().signal, body: async () => Buffer.alloc(0),
  };
}

const NS = 'X-Consul-Namespace';
const AP = 'X-Consul-Partition';

test('precedence: the query parameter over the header, empty values count as absent', () => {
  const rows: [string, Record<string, string>, { namespace: string; partition: string; explicit: boolean }][] = [
    ['', {}, { namespace: '', partition: '', explicit: false }],
    ['ns=q', { [NS]: 'h' }, { namespace: 'q', partition: '', explicit: true }],
    ['ns=', { [NS]: 'h' }, { namespace: 'h', partition: '', explicit: true }],
    ['', { [NS]: 'h', [AP]: 'hp' }, { namespace: 'h', partition: 'hp', explicit: true }],
    ['partition=qp', { [AP]: 'hp' }, { namespace: '', partition: 'qp', explicit: true }],
    ['ns=&partition=', { [NS]: '', [AP]: '' }, { namespace: '', partition: '', explicit: false }],
  ];
  for (const [q, h, want] of rows) assert.deepEqual(entInput(mk(q, h), 'namespace'), want, `${q} ${JSON.stringify(h)}`);
});

test('default, in any case, is the default tenant; named, it wins over the token scope', () => {
  assert.deepEqual(entInput(mk('ns=default&partition=DEFAULT'), 'namespace'), { namespace: 'default', partition: 'default', explicit: true });
  assert.deepEqual(entInput(mk('', { [NS]: 'Default' }), 'namespace-no-wildcard'), { namespace: 'default', partition: '', explicit: true });
  const q = queryOptions(mk('ns=default'), cfg, { tenancy: 'namespace' });
  assert.equal(q.ent, DEFAULT_ENT);
  assert.equal(q.entNamed, true);
});

test('the wildcard namespace only where the handler takes it; never a wildcard partition', () => {
  assert.equal(entInput(mk('ns=*'), 'namespace').namespace, '*');
  assert.throws(() => entInput(mk('ns=*'), 'namespace-no-wildcard'), { name: 'BadRequestError', message: /wildcard/ });
  assert.throws(() => entInput(mk('', { [NS]: '*' }), 'namespace-no-wildcard'), { name: 'BadRequestError' });
  assert.throws(() => entInput(mk('partition=*'), 'namespace'), { name: 'BadRequestError', message: /Invalid partition name "\*"/ });
});

test('names must be DNS labels', () => {
  assert.throws(() => entInput(mk('ns=a/b'), 'namespace'), { name: 'BadRequestError', message: /Invalid namespace name "a\/b"/ });
  assert.throws(() => entInput(mk('', { [AP]: 'a_b' }), 'partition'), { name: 'BadRequestError', message: /Invalid partition name/ });
});

test('partition mode reads the partition only, as parseEntMetaPartition', () => {
  assert.deepEqual(entInput(mk('ns=a/b&partition=p1'), 'partition'), { namespace: '', partition: 'p1', explicit: true });
  assert.deepEqual(entInput(mk('ns=team'), 'partition'), { namespace: '', partition: '', explicit: false });
});

test('queryOptions: no mode keeps Consul CE 400s; a mode resolves the tenant', () => {
  assert.throws(() => queryOptions(mk('ns=default'), cfg), { message: 'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature' });
  assert.throws(() => queryOptions(mk('', { [AP]: 'p' }), cfg), { message: 'Invalid header: "X-Consul-Partition" - Partitions are a Consul Enterprise feature' });
  assert.equal(queryOptions(mk(''), cfg).ent, undefined);
  assert.deepEqual(queryOptions(mk('ns=team-1&partition=p1'), cfg, { tenancy: 'namespace' }).ent, { partition: 'p1', namespace: 'team-1' });
  assert.deepEqual(queryOptions(mk(''), { ...cfg, partition: 'agent-ap' }, { tenancy: 'namespace' }).ent, { partition: 'agent-ap', namespace: 'default' });
  assert.throws(() => queryOptions(mk('dc=dc9&ns=a/b'), cfg, { tenancy: 'namespace' }), /No path to datacenter/);
});

test('requestEnt: the body wins, then the request, the agent partition, the token scope (peer: partition only)', () => {
  const id = { ent: { partition: 'tp', namespace: 'tns' } } as AclIdentity;
  assert.deepEqual(requestEnt(mk('ns=q'), cfg, 'namespace', id, { namespace: 'b' }), { partition: 'tp', namespace: 'b' });
  assert.deepEqual(requestEnt(mk(''), cfg, 'namespace', id), { partition: 'tp', namespace: 'tns' });
  assert.deepEqual(requestEnt(mk('peer=p1'), cfg, 'namespace', id), { partition: 'tp', namespace: 'default' });
  assert.deepEqual(requestEnt(mk(''), { ...cfg, partition: 'ap' }, 'namespace', id), { partition: 'ap', namespace: 'tns' });
  assert.equal(requestEnt(mk(''), cfg, 'namespace', undefined), DEFAULT_ENT);
  // A namespaced token naming the default tenant acts there (Consul's Merge fills only empty fields).
  assert.equal(requestEnt(mk('ns=default&partition=default'), cfg, 'namespace', id), DEFAULT_ENT);
  assert.deepEqual(requestEnt(mk('ns=DEFAULT'), cfg, 'namespace', id), { partition: 'tp', namespace: 'default' });
});

test('share keys: unchanged for the default tenant, distinct per tenant chosen by header', () => {
  const plain = sharedQueryOptions(mk('recurse'), cfg).shareKey;
  assert.equal(sharedQueryOptions(mk('recurse'), cfg, { tenancy: 'namespace' }).shareKey, plain);
  const a = sharedQueryOptions(mk('recurse', { [NS]: 'a' }), cfg, { tenancy: 'namespace' }).shareKey;
  const b = sharedQueryOptions(mk('recurse', { [NS]: 'b' }), cfg, { tenancy: 'namespace' }).shareKey;
  assert.notEqual(a, plain);
  assert.notEqual(a, b);
});
