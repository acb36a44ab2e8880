// Tests for the default CA configuration record.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defaultCAConfiguration } from './ca-config.ts';

it('matches the record a fresh Consul cluster stores for the consul provider', () => {
  assert.equal(
    JSON.stringify(defaultCAConfiguration()),
    JSON.stringify({
      Provider: 'consul',
      Config: { LeafCertTTL: '72h', IntermediateCertTTL: '8760h', RootCertTTL: '87600h' },
      State: null,
      ForceWithoutCrossSigning: false,
      CreateIndex: 0,
      ModifyIndex: 0,
    }),
  );
});

it('merges agent ca_config entries over the TTL defaults', () => {
  const cfg = defaultCAConfiguration({ LeafCertTTL: '24h', PrivateKeyType: 'rsa', PrivateKeyBits: 2048 });
  assert.deepEqual(cfg.Config, {
    LeafCertTTL: '24h',
    IntermediateCertTTL: '8760h',
    RootCertTTL: '87600h',
    PrivateKeyType: 'rsa',
    PrivateKeyBits: 2048,
  });
});
