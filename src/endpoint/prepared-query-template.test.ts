import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, parseHil, renderTemplate } from './prepared-query-template.ts';
import type { PreparedQueryRecord } from '../state/index.ts';

function query(over: { Name?: string; Regexp?: string; RemoveEmptyTags?: boolean; Service?: string; Tags?: string[]; Type?: string; NodeMeta?: Record<string, string> }): PreparedQueryRecord {
  return {
    ID: 'x', Name: over.Name ?? 'geo-db-', Session: '', Token: '',
    Template: { Type: over.Type ?? 'name_prefix_match', Regexp: over.Regexp ?? '', RemoveEmptyTags: over.RemoveEmptyTags ?? false },
    Service: {
      Service: over.Service ?? '${name.full}', SamenessGroup: '', Failover: { NearestN: 0, Datacenters: null, Targets: null },
      OnlyPassing: false, IgnoreCheckIDs: null, Near: '', Tags: over.Tags ?? null, NodeMeta: over.NodeMeta ?? null, ServiceMeta: null, Peer: '', Connect: false,
    },
    DNS: { TTL: '' },
  };
}

test('name variables render the looked-up name, the prefix and the rest', () => {
  const ct = compileTemplate(query({ Service: '${name.prefix}|${name.suffix}|${name.full}|${agent.segment}' }));
  assert.equal(renderTemplate(ct, 'geo-db-customer', { segment: 'seg' }).Service.Service, 'geo-db-|customer|geo-db-customer|seg');
});

test('match(N) reads the regexp groups, out of range and no match are empty', () => {
  const ct = compileTemplate(query({ Regexp: '^geo-db-(.*?)-([^\\-]+?)$', Service: 'mysql-${match(1)}', Tags: ['${match(2)}', '${match(7)}'] }));
  const r = renderTemplate(ct, 'geo-db-customer-primary', { segment: '' });
  assert.equal(r.Service.Service, 'mysql-customer');
  assert.deepEqual(r.Service.Tags, ['primary', '']);
  assert.equal(renderTemplate(ct, 'nothing', { segment: '' }).Service.Service, 'mysql-');
});

test('Go named groups and RemoveEmptyTags', () => {
  const ct = compileTemplate(query({ Regexp: '^geo-db-(?P<svc>[a-z]+)(-(?P<tag>[a-z]+))?$', RemoveEmptyTags: true, Service: '${match(1)}', Tags: ['${match(3)}', 'x'] }));
  assert.deepEqual(renderTemplate(ct, 'geo-db-web', { segment: '' }).Service.Tags, ['x']);
  assert.deepEqual(renderTemplate(ct, 'geo-db-web-blue', { segment: '' }).Service.Tags, ['blue', 'x']);
});

test('escapes, literals and map values', () => {
  assert.deepEqual(parseHil('a$${b}'), ['a${b}']);
  const ct = compileTemplate(query({ Service: '${"lit"}-${name.suffix}', NodeMeta: { zone: '${name.suffix}' } }));
  const r = renderTemplate(ct, 'geo-db-east', { segment: '' });
  assert.equal(r.Service.Service, 'lit-east');
  assert.deepEqual(r.Service.NodeMeta, { zone: 'east' });
});

test('compile errors carry Consul texts', () => {
  assert.throws(() => compileTemplate(query({ Type: 'nope' })), /^Error: Bad Template.Type 'nope'$/);
  assert.throws(() => compileTemplate(query({ Service: '${name.full' })), /Bad format '\$\{name.full' in Service.Service/);
  assert.throws(() => compileTemplate(query({ Service: '${nope}' })), /Bad evaluation for '\$\{nope\}' in Service.Service: unknown variable accessed: nope/);
  assert.throws(() => compileTemplate(query({ Service: '${match("a")}' })), /Bad evaluation/);
  assert.throws(() => compileTemplate(query({ Service: '${1}' })), /Expected Service.Service field to be a string/);
  assert.throws(() => compileTemplate(query({ Regexp: '(' })), /^Error: Bad Regexp: /);
});
