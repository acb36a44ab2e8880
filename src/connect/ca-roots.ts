// The trusted-roots list served by GET /v1/connect/ca/roots (`structs.IndexedCARoots`), in JSON
// and as the `?pem=true` certificate chain.

import type { CARoot } from './ca-root.ts';
import { trustDomain } from './spiffe.ts';

/** The body of GET /v1/connect/ca/roots, with Consul's field names. */
export interface CARootList {
  /** ID of the active root, or "" when none is active. */
  ActiveRootID: string;
  /** `<clusterId>.consul`: the authority every identity URI issued by this cluster must use. */
  TrustDomain: string;
  Roots: CARoot[];
}

/** Content-Type of the `?pem=true` response (RFC 8555). */
export const PEM_CHAIN_CONTENT_TYPE = 'application/pem-certificate-chain';

/**
 * Builds the roots response from stored roots, copying only the public fields like Consul's
 * `ConnectCA.Roots` allowlist (no RotatedOutAt, never any key material), ordered by ID as
 * Consul's state store reads them (a replica holds them in the order it saw them written).
 */
export function rootsResponse(roots: readonly CARoot[], clusterId: string): CARootList {
  let active = '';
  const byId = [...roots].sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
  const out = byId.map((r): CARoot => {
    if (r.Active) active = r.ID;
    return {
      ID: r.ID,
      Name: r.Name,
      SerialNumber: r.SerialNumber,
      SigningKeyID: r.SigningKeyID,
      ExternalTrustDomain: r.ExternalTrustDomain,
      NotBefore: r.NotBefore,
      NotAfter: r.NotAfter,
      RootCert: r.RootCert,
      IntermediateCerts: r.IntermediateCerts,
      Active: r.Active,
      PrivateKeyType: r.PrivateKeyType,
      PrivateKeyBits: r.PrivateKeyBits,
      CreateIndex: r.CreateIndex,
      ModifyIndex: r.ModifyIndex,
    };
  });
  return { ActiveRootID: active, TrustDomain: clusterId ? trustDomain(clusterId) : '', Roots: out };
}

/**
 * The `?pem=true` body: each root's certificate followed by its intermediates, in list order
 * (Consul does not move the active root first), written back to back as stored.
 */
export function rootsPem(list: CARootList): string {
  let body = '';
  for (const root of list.Roots) {
    body += root.RootCert;
    for (const inter of root.IntermediateCerts ?? []) body += inter;
  }
  return body;
}
