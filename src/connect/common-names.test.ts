// Tests for CA Common Names and compact unique ids.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { caCommonName, compactUid } from './common-names.ts';

it('formats {pri|sec}-{uid8}.{provider}.ca.{trust domain 8}.consul, sanitising uid and provider', () => {
  assert.equal(caCommonName('consul', '-AbC12345x', 'abcdefghij', true), 'pri-abc12345.consul.ca.abcdefgh.consul');
  assert.equal(caCommonName('Aws-PCA', 'z9', 'cid', false), 'sec-z9.awspca.ca.cid.consul');
});

it('draws base-36 uids of at most 8 characters', () => {
  for (let i = 0; i < 200; i++) assert.match(compactUid(), /^-?[0-9a-z]{1,8}$/);
});
