// The CA configuration record served by GET /v1/connect/ca/configuration (`structs.CAConfiguration`)
// and the defaults the agent seeds it with before the first leader bootstraps the CA.

import type { PrivateKeyType } from './private-key.ts';

/** The CA configuration with Consul's JSON field names; `Config` is provider-specific and open. */
export interface CAConfiguration {
  Provider: string;
  Config: Record<string, unknown>;
  /** Provider-persisted string state; `null` for the `consul` provider, which keeps its own table. */
  State: Record<string, string> | null;
  ForceWithoutCrossSigning: boolean;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Defaults of the common CA settings (`structs.Default*CertTTL`). */
export const DEFAULT_LEAF_CERT_TTL = '72h';
export const DEFAULT_INTERMEDIATE_CERT_TTL = '8760h';
export const DEFAULT_ROOT_CERT_TTL = '87600h';

/**
 * What the `consul` provider assumes for keys absent from `Config` (`defaultCommonConfig`): these
 * are applied when parsing, not written into the stored configuration.
 */
export const CONSUL_PROVIDER_DEFAULTS: Readonly<{ PrivateKeyType: PrivateKeyType; PrivateKeyBits: number }> = {
  PrivateKeyType: 'ec',
  PrivateKeyBits: 256,
};

/**
 * The configuration a fresh cluster stores, as `RuntimeConfig.ConnectCAConfiguration` builds it:
 * provider `consul` and exactly the three TTLs, with the agent's `connect.ca_config` entries
 * (already in their CamelCase API names) merged over them.
 */
export function defaultCAConfiguration(overrides: Record<string, unknown> = {}): CAConfiguration {
  return {
    Provider: 'consul',
    Config: {
      LeafCertTTL: DEFAULT_LEAF_CERT_TTL,
      IntermediateCertTTL: DEFAULT_INTERMEDIATE_CERT_TTL,
      RootCertTTL: DEFAULT_ROOT_CERT_TTL,
      ...overrides,
    },
    State: null,
    ForceWithoutCrossSigning: false,
    CreateIndex: 0,
    ModifyIndex: 0,
  };
}
