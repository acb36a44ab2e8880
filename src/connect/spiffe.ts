// The cluster's SPIFFE signing identity: trust domain `<clusterId>.consul` and its URI, which every
// CA certificate carries as its only URI SAN. The `.consul` TLD is fixed, independent of DNS domain.

/** The trust domain host for a cluster, lower-cased (`SpiffeIDSigning.Host`). */
export function trustDomain(clusterId: string): string {
  return `${clusterId}.consul`.toLowerCase();
}

/** The signing SPIFFE URI for a cluster: `spiffe://<clusterId>.consul`. */
export function signingUri(clusterId: string): string {
  return `spiffe://${trustDomain(clusterId)}`;
}
