// Unit tests of explainSources: the deciding source and rule agree with the merged authorizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainSources, governingRule, type ExplainSource } from './explain.ts';
import { denyAll } from './static.ts';
import { parseRules } from './rules.ts';

const src = (name: string, rules: string): ExplainSource => ({ origin: { Source: 'policy', Policy: { ID: name, Name: name } }, policy: parseRules(rules) });

test('governingRule: exact beats the longest prefix; scalars match exactly; mesh falls back to operator', () => {
  const p = parseRules('key_prefix "" { policy = "read" }\nkey_prefix "app/" { policy = "write" }\nkey "app/db" { policy = "deny" }\noperator = "read"');
  assert.deepEqual(governingRule(p, 'key', 'app/db'), { kind: 'exact', segment: 'app/db', level: 'deny' });
  assert.deepEqual(governingRule(p, 'key', 'app/x'), { kind: 'prefix', segment: 'app/', level: 'write' });
  assert.deepEqual(governingRule(p, 'key', 'zzz'), { kind: 'prefix', segment: '', level: 'read' });
  assert.deepEqual(governingRule(p, 'mesh', ''), { kind: 'exact', segment: '', level: 'read' });
  assert.equal(governingRule(p, 'node', 'n1'), undefined);
});

test('explainSources: specificity first, then deny > write > read across sources; else the default policy', () => {
  const broad = src('broad', 'key_prefix "" { policy = "write" }');
  const narrow = src('narrow', 'key_prefix "app/" { policy = "read" }');
  const deny = src('deny', 'key_prefix "app/" { policy = "deny" }');
  assert.deepEqual(explainSources([broad, narrow], denyAll(), 'key', 'app/x', 'write'), {
    Decision: 'deny', Rule: { Source: 'policy', Policy: { ID: 'narrow', Name: 'narrow' }, Match: 'prefix', Segment: 'app/', Level: 'read' },
  });
  assert.equal(explainSources([narrow, deny], denyAll(), 'key', 'app/x', 'read').Rule.Policy?.Name, 'deny');
  assert.equal(explainSources([broad], denyAll(), 'key', 'other', 'write').Rule.Policy?.Name, 'broad');
  assert.deepEqual(explainSources([narrow], denyAll(), 'service', 'web', 'read'), {
    Decision: 'deny', Rule: { Source: 'default policy', Match: 'default', Segment: '' },
  });
});
