import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Intention } from '../intentions.ts';
import { callerIdentity, callerService, permissionMatches, rbacHeaders, rbacVerdict } from './l7-rbac.ts';
import type { L7Request } from './l7-route.ts';

function req(method: string, path: string, headers: Record<string, string | string[]> = {}): L7Request {
  return { method, path, query: new URLSearchParams(), headers };
}

function ixn(source: string, fields: Partial<Intention>, precedence = source === '*' ? 8 : 9): Intention {
  return { SourceNS: 'default', SourceName: source, DestinationNS: 'default', DestinationName: 'api', SourceType: 'consul', Precedence: precedence, CreateIndex: 1, ModifyIndex: 1, ...fields };
}

test('a permission matches on its path, methods (with case) and every header', () => {
  const p = { Action: 'allow', HTTP: { PathPrefix: '/public', Methods: ['GET', 'HEAD'], Header: [{ Name: 'X-Team', Exact: 'blue' }] } };
  assert.equal(permissionMatches(p, req('GET', '/public/x', { 'x-team': 'blue' })), true);
  assert.equal(permissionMatches(p, req('get', '/public/x', { 'x-team': 'blue' })), false);
  assert.equal(permissionMatches(p, req('POST', '/public/x', { 'x-team': 'blue' })), false);
  assert.equal(permissionMatches(p, req('GET', '/admin', { 'x-team': 'blue' })), false);
  assert.equal(permissionMatches(p, req('GET', '/public', {})), false);
  assert.equal(permissionMatches({ HTTP: { PathExact: '/a' } }, req('GET', '/a/')), false);
  assert.equal(permissionMatches({ HTTP: { PathRegex: '/v[0-9]+/.*' } }, req('GET', '/v2/x')), true);
  assert.equal(permissionMatches({ HTTP: { PathRegex: '/v[0-9]+' } }, req('GET', '/v2/x')), false, 'a regex matches the whole path');
  assert.equal(permissionMatches({ Action: 'deny' }, req('DELETE', '/anything')), true, 'no HTTP: every request');
});

test('header matchers: present, prefix, suffix, regex, inverted, joined repeats', () => {
  const h = (m: Record<string, unknown>, headers: Record<string, string | string[]>) => permissionMatches({ HTTP: { Header: [{ Name: 'x-a', ...m }] } }, req('GET', '/', headers));
  assert.equal(h({ Present: true }, { 'x-a': '' }), true);
  assert.equal(h({ Present: true }, {}), false);
  assert.equal(h({ Present: true, Invert: true }, {}), true);
  assert.equal(h({ Prefix: 'ab' }, { 'x-a': 'abc' }), true);
  assert.equal(h({ Suffix: 'bc' }, { 'x-a': 'abc' }), true);
  assert.equal(h({ Regex: 'a.c' }, { 'x-a': 'abc' }), true);
  assert.equal(h({ Regex: 'a' }, { 'x-a': 'abc' }), false);
  assert.equal(h({ Exact: 'abc', Invert: true }, { 'x-a': 'abc' }), false);
  assert.equal(h({ Exact: '1,2' }, { 'x-a': ['1', '2'] }), true);
});

test('the first intention naming the caller decides; an L7 one by its first matching permission, else the default', () => {
  const l7 = ixn('web', { Permissions: [
    { Action: 'allow', HTTP: { PathPrefix: '/public', Methods: ['GET'] } },
    { Action: 'deny', HTTP: { PathPrefix: '/public' } },
  ] });
  const list = [l7, ixn('*', { Action: 'deny' })];
  assert.equal(rbacVerdict(list, 'web', req('GET', '/public/x')), 'allow');
  assert.equal(rbacVerdict(list, 'web', req('POST', '/public')), 'deny');
  // The wildcard deny is hidden for web by its higher intention (Consul's NotSources).
  assert.equal(rbacVerdict(list, 'web', req('GET', '/admin')), 'default');
  assert.equal(rbacVerdict(list, 'other', req('GET', '/public/x')), 'deny');
  assert.equal(rbacVerdict([ixn('web', { Action: 'allow' })], 'web', req('PUT', '/x')), 'allow');
  assert.equal(rbacVerdict([ixn('web', { Action: 'allow', SourcePeer: 'p1' })], 'web', req('GET', '/')), 'default', 'a peer source is not a local caller');
  assert.equal(rbacVerdict([], 'web', req('GET', '/')), 'default');
  assert.equal(rbacVerdict(list, undefined, req('GET', '/public/x')), 'default');
});

test('a caller is a service of the local trust domain and the default namespace', () => {
  const td = '11111111-2222-3333-4444-555555555555.consul';
  assert.equal(callerService(`spiffe://${td}/ns/default/dc/dc1/svc/web`, td), 'web');
  assert.equal(callerService(`spiffe://other.consul/ns/default/dc/dc1/svc/web`, td), undefined);
  assert.equal(callerService(`spiffe://${td}/ns/team/dc/dc1/svc/web`, td), undefined);
  assert.equal(callerService(`spiffe://${td}/agent/client/dc/dc1/id/x`, td), undefined);
});

test('RBAC headers: repeats joined with "," from the raw headers, and the pseudo-headers', () => {
  const h = rbacHeaders(['X-A', '1', 'User-Agent', 'u1', 'x-a', '2', 'user-agent', 'u2', 'Host', 'api:1'], 'GET', '/p?q=1', undefined);
  assert.deepEqual(h, { 'x-a': '1,2', 'user-agent': 'u1,u2', host: 'api:1', ':method': 'GET', ':path': '/p?q=1', ':scheme': 'https', ':authority': 'api:1' });
  const deny = (m: Record<string, unknown>) => [ixn('web', { Permissions: [{ Action: 'deny', HTTP: { Header: [m] } }, { Action: 'allow' }] })];
  assert.equal(rbacVerdict(deny({ Name: ':path', Prefix: '/admin' }), 'web', req('GET', '/admin', rbacHeaders([], 'GET', '/admin', 'a'))), 'deny');
  assert.equal(rbacVerdict(deny({ Name: 'x-a', Exact: '1,2' }), 'web', req('GET', '/', h)), 'deny');
});

test('sources in other namespaces and partitions: a */* source names every caller, another partition\'s or namespace\'s source none', () => {
  // A */* source (any namespace; the wildcard namespace's intentions reach every destination) decides for a default-namespace caller.
  assert.equal(rbacVerdict([ixn('*', { SourceNS: '*', Action: 'deny', Precedence: 7 })], 'web', req('GET', '/')), 'deny');
  assert.equal(rbacVerdict([ixn('*', { SourceNS: '*', DestinationNS: '*', DestinationName: '*', Action: 'deny', Precedence: 1 })], 'web', req('GET', '/')), 'deny');
  // The same name in another namespace or partition is another service: not this caller.
  assert.equal(rbacVerdict([ixn('web', { SourceNS: 'team-a', Action: 'allow' }), ixn('*', { Action: 'deny' })], 'web', req('GET', '/')), 'deny');
  assert.equal(rbacVerdict([ixn('web', { SourcePartition: 'ap1', Action: 'allow' }), ixn('*', { Action: 'deny' })], 'web', req('GET', '/')), 'deny');
  assert.equal(rbacVerdict([ixn('web', { SourcePartition: 'default', DestinationPartition: 'default', Action: 'allow' })], 'web', req('GET', '/')), 'allow');
});

test('a caller of another namespace or partition is matched by its ns/name: SourceNS and SourcePartition must be its own', () => {
  const td = '11111111-2222-3333-4444-555555555555.consul';
  const a = callerIdentity(`spiffe://${td}/ns/team-a/dc/dc1/svc/web`, td)!;
  assert.deepEqual(a, { name: 'web', namespace: 'team-a', partition: 'default' });
  assert.deepEqual(callerIdentity(`spiffe://${td}/ap/p1/ns/team-a/dc/dc1/svc/web`, td), { name: 'web', namespace: 'team-a', partition: 'p1' });
  assert.equal(callerIdentity(`spiffe://other.consul/ns/team-a/dc/dc1/svc/web`, td), undefined);
  assert.equal(callerService(`spiffe://${td}/ap/p1/ns/default/dc/dc1/svc/web`, td), undefined);
  const list = [ixn('web', { SourceNS: 'team-a', Action: 'allow' }), ixn('*', { SourceNS: 'team-c', Action: 'deny', Precedence: 8 })];
  assert.equal(rbacVerdict(list, a, req('GET', '/')), 'allow');
  assert.equal(rbacVerdict(list, { ...a, namespace: 'team-b' }, req('GET', '/')), 'default');
  assert.equal(rbacVerdict(list, { ...a, namespace: 'team-c' }, req('GET', '/')), 'deny');
  assert.equal(rbacVerdict(list, 'web', req('GET', '/')), 'default', 'default/web is another service');
  assert.equal(rbacVerdict(list, { ...a, partition: 'p1' }, req('GET', '/')), 'default', 'team-a/web of another partition');
  assert.equal(rbacVerdict([ixn('*', { SourceNS: '*', Action: 'deny', Precedence: 7 })], a, req('GET', '/')), 'deny');
});
