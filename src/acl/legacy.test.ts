import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translateLegacyRules } from './legacy.ts';
import { parseRules } from './rules.ts';

test('legacy segment rules become prefix rules; everything else is kept', () => {
  const legacy = `# legacy rules
agent "" { policy = "read" }
key "app/" {
  policy = "write"
}
node "" { policy = "read" }
query "" { policy = "read" }
service "" { policy = "write" }
session "" { policy = "write" }
event "deploy" { policy = "write" }
keyring = "read"
operator = "read"
key "key" { policy = "deny" } // the label "key" is not a key
`;
  const out = translateLegacyRules(legacy);
  assert.equal(out, legacy
    .replace('agent ""', 'agent_prefix ""').replace('key "app/"', 'key_prefix "app/"').replace('node ""', 'node_prefix ""')
    .replace('query ""', 'query_prefix ""').replace('service ""', 'service_prefix ""').replace('session ""', 'session_prefix ""')
    .replace('event "deploy"', 'event_prefix "deploy"').replace('key "key"', 'key_prefix "key"'));
  const p = parseRules(out);
  assert.deepEqual(p.key.prefix.map((r) => r.name), ['app/', 'key']);
  assert.equal(p.key.exact.length, 0);
  assert.equal(p.keyring, 'read');
});

test('strings, comments and heredocs are never rewritten', () => {
  const src = 'key "a" {\n  policy = <<EOT\nkey "x"\nEOT\n}\n/* service "" {} */\n';
  assert.equal(translateLegacyRules(src), src.replace('key "a"', 'key_prefix "a"'));
});

test('invalid rules fail with Consul\'s message', () => {
  assert.throws(() => translateLegacyRules('key "a" {'), /^RulesError: Failed to parse rules: At 1:11: object expected closing RBRACE got: EOF$/);
});
