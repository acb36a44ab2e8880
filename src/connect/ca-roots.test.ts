// Tests for the GET /v1/connect/ca/roots body and its `?pem=true` form.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CARoot } from './ca-root.ts';
import { rootsPem, rootsResponse } from './ca-roots.ts';

function root(id: string, active: boolean, extra: Partial<CARoot> = {}): CARoot {
  return {
    ID: id,
    Name: 'Consul CA Primary Cert',
    SerialNumber: 7,
    SigningKeyID: 'aa:bb',
    ExternalTrustDomain: 'cid',
    NotBefore: '2025-01-15T12:30:45Z',
    NotAfter: '2035-01-13T12:30:45Z',
    RootCert: `-----BEGIN CERTIFICATE-----\n${id}\n-----END CERTIFICATE-----\n`,
    IntermediateCerts: null,
    Active: active,
    PrivateKeyType: 'ec',
    PrivateKeyBits: 256,
    CreateIndex: 5,
    ModifyIndex: 9,
    ...extra,
  };
}

describe('rootsResponse', () => {
  const old = root('01:aa', false, { RotatedOutAt: '2025-02-01T00:00:00Z', IntermediateCerts: ['INTER-1\n'] });
  const current = root('02:bb', true);

  it('reports the active root and the lower-cased trust domain', () => {
    const list = rootsResponse([old, current], 'ABCD-1234');
    assert.equal(list.ActiveRootID, '02:bb');
    assert.equal(list.TrustDomain, 'abcd-1234.consul');
    assert.deepEqual(list.Roots.map((r) => r.ID), ['01:aa', '02:bb']);
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(list))), ['ActiveRootID', 'TrustDomain', 'Roots']);
  });

  it('lists the roots by ID, as Consul\'s state store reads them, whatever order the replica holds them in', () => {
    // A server that saw a rotation holds the new root last; one that listed the store after it, in key order.
    const list = rootsResponse([root('f1:00', false), root('0a:00', true), root('5c:00', false)], 'c');
    assert.deepEqual(list.Roots.map((r) => r.ID), ['0a:00', '5c:00', 'f1:00']);
    assert.equal(list.ActiveRootID, '0a:00');
  });

  it('never exposes RotatedOutAt, like Consul\'s json:"-" field', () => {
    const body = JSON.parse(JSON.stringify(rootsResponse([old], 'c')));
    assert.equal('RotatedOutAt' in body.Roots[0], false);
    assert.equal(body.Roots[0].Active, false);
  });

  it('returns an empty list, not null, when there are no roots', () => {
    assert.deepEqual(rootsResponse([], 'c'), { ActiveRootID: '', TrustDomain: 'c.consul', Roots: [] });
  });
});

describe('rootsPem', () => {
  it('writes each root followed by its intermediates, in list order', () => {
    const list = rootsResponse([root('01:aa', false, { IntermediateCerts: ['INTER-1\n'] }), root('02:bb', true)], 'c');
    const expected = list.Roots[0].RootCert + 'INTER-1\n' + list.Roots[1].RootCert;
    assert.equal(rootsPem(list), expected);
  });
});
