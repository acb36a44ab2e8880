import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeIntention } from './intentions.ts';
import { parseIntentionName, parseIntentionPeerName, intentionString } from '../../endpoint/intentions.ts';

test('intention bodies decode as Go does: keys in any case, wrong types refused with Go\'s text', () => {
  assert.deepEqual(decodeIntention({ action: 'allow', sourcename: 'x', description: 'd' }), { Action: 'allow', SourceName: 'x', Description: 'd' });
  assert.deepEqual(decodeIntention(null), {});
  assert.throws(() => decodeIntention(undefined), { message: 'Request decode failed: EOF' });
  assert.throws(() => decodeIntention([]), { message: 'Request decode failed: json: cannot unmarshal array into Go value of type structs.Intention' });
  assert.throws(() => decodeIntention({ Meta: { a: 1 } }), { message: 'Request decode failed: json: cannot unmarshal number into Go struct field Intention.Meta of type string' });
  assert.throws(() => decodeIntention({ Permissions: {} }), { message: 'Request decode failed: json: cannot unmarshal object into Go struct field Intention.Permissions of type []*structs.IntentionPermission' });
});

test('intention names: [[partition/]namespace/]name, bare names in the request\'s tenant, no peers', () => {
  const team = { partition: 'default', namespace: 'team' };
  assert.deepEqual(parseIntentionName('source', 'web'), { name: 'web', ent: undefined });
  assert.deepEqual(parseIntentionName('source', 'default/web'), { name: 'web', ent: undefined });
  assert.deepEqual(parseIntentionName('source', 'default/default/*'), { name: '*', ent: undefined });
  assert.deepEqual(parseIntentionName('source', 'team/web'), { name: 'web', ent: team });
  assert.deepEqual(parseIntentionName('source', 'web', team), { name: 'web', ent: team });
  assert.deepEqual(parseIntentionName('source', 'default/web', team), { name: 'web', ent: undefined });
  assert.deepEqual(parseIntentionName('source', 'ap1/team/web'), { name: 'web', ent: { partition: 'ap1', namespace: 'team' } });
  assert.deepEqual(parseIntentionName('source', '*/*'), { name: '*', ent: { partition: 'default', namespace: '*' } });
  assert.throws(() => parseIntentionName('source', 'a/b/c/d'), { message: `source "a/b/c/d" is invalid: input can contain at most two '/'` });
  assert.throws(() => parseIntentionName('name', 'peer:p/web'), { message: 'name "peer:p/web" is invalid: cannot specify a peer here' });
  assert.deepEqual(parseIntentionPeerName('source', 'peer:p1/web'), { peer: 'p1', name: 'web', ent: undefined });
  assert.deepEqual(parseIntentionPeerName('source', 'peer:p1/default/web'), { peer: 'p1', name: 'web', ent: { partition: 'default', namespace: 'default' } });
  assert.throws(() => parseIntentionPeerName('source', 'peer:p1'), { message: 'source "peer:p1" is invalid: need to specify the service name as well' });
});

test('Intention.String() as the authorize reason shows it', () => {
  const base = { SourceNS: 'default', SourceName: 'web', DestinationNS: 'default', DestinationName: 'db', SourceType: 'consul', Precedence: 9, CreateIndex: 1, ModifyIndex: 1 };
  assert.equal(intentionString({ ...base, Action: 'allow' }), 'web => db (Action: ALLOW, Precedence: 9)');
  assert.equal(intentionString({ ...base, ID: 'i', Permissions: [{}, {}] }), 'web => db (ID: i, Permissions: 2, Precedence: 9)');
});
