// The namespace and partition commands' printers and definition decoding: Consul Enterprise's
// pretty layout (docs examples), JSON with four-space indents, HCL blocks and snake_case keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatNamespace, formatNamespaceList, namespaceFromDefinition } from './namespace.ts';
import { formatPartitionList, partitionFromDefinition } from './partition.ts';

test('pretty namespace: description on its own line, ACL links as ID / Name, indexes only with -meta', () => {
  const ns = {
    Name: 'team-1', ACLs: { PolicyDefaults: [{ ID: '1206bf1c-6239-46e8-b9f8-b426667cf428', Name: 'team1-universal-policy' }], RoleDefaults: [] },
    Partition: 'default', CreateIndex: 339, ModifyIndex: 344,
  };
  assert.equal(formatNamespace(ns, 'pretty', true),
    'Name: team-1\nDescription:\nACLs:\n   Default Policies:\n      1206bf1c-6239-46e8-b9f8-b426667cf428 / team1-universal-policy\nCreate Index: 339\nModify Index: 344');
  assert.equal(formatNamespace({ Name: 'team-1', Description: 'example description' }, 'pretty', false), 'Name: team-1\nDescription:\n   example description');
  assert.equal(formatNamespace({ Name: 'a', CreateIndex: 1, ModifyIndex: 2 }, 'json', false), '{\n   "Name": "a",\n   "CreateIndex": 1,\n   "ModifyIndex": 2\n}');
});

test('pretty lists: a heading per name, a trailing blank line', () => {
  const list = [{ Name: 'default', Description: 'Builtin Default Namespace', CreateIndex: 4, ModifyIndex: 4 }, { Name: 'team-1', CreateIndex: 339, ModifyIndex: 344 }];
  assert.equal(formatNamespaceList(list, 'pretty', true),
    'default:\n   Description:\n      Builtin Default Namespace\n   Create Index: 4\n   Modify Index: 4\nteam-1:\n   Description:\n   Create Index: 339\n   Modify Index: 344\n');
  assert.equal(formatPartitionList([{ Name: 'default', Description: 'Builtin Default Partition' }], 'pretty', false), 'default:\n   Description:\n      Builtin Default Partition\n');
});

test('definitions: HCL blocks, snake_case and any key case; JSON alike', () => {
  const hcl = 'name = "foo"\ndescription = "Example Namespace"\nmeta {\n  team-id = "574"\n}\nacls {\n  policy_defaults = [{ id = "abc" }, { name = "p" }]\n  role_defaults = [{ Name = "r" }]\n}\npartition = "west"\n';
  assert.deepEqual(namespaceFromDefinition(hcl), {
    Name: 'foo', Description: 'Example Namespace', ACLs: { PolicyDefaults: [{ ID: 'abc' }, { Name: 'p' }], RoleDefaults: [{ Name: 'r' }] },
    Meta: { 'team-id': '574' }, Partition: 'west',
  });
  assert.deepEqual(namespaceFromDefinition('{"Name": "bar", "Meta": {"a": "b"}}'), { Name: 'bar', Meta: { a: 'b' } });
  assert.deepEqual(partitionFromDefinition('name = "webdev-bu" description = "backup webdev partition"'), { Name: 'webdev-bu', Description: 'backup webdev partition' });
});
