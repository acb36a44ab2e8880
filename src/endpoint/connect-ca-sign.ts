// ConnectCA.Sign for service identities (Consul's connect_ca_endpoint.go Sign with
// CAManager.AuthorizeAndSignCertificate/SignCertificate): a CSR naming one service SPIFFE ID of
// this datacenter and the cluster's trust domain, signed by the active built-in CA root for the
// stored configuration's leaf TTL under the server's CSR limit, after service:write is checked.
// Each signing is a store write whose revision is the certificate's index (ApplyCALeafRequest).
import { goTime, parseServiceUri, trustDomain } from '../connect/index.ts';
import { BadRequestError, InternalError } from '../errors.ts';
import { authorize, entContext } from './acl-enforce.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName, isDefaultEnt, validTenancyName, type EnterpriseMeta } from '../state/index.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { CASignRequest } from './auto-encrypt.ts';
import type { LeafCert } from '../api/connect-types.ts';
import type { EndpointDeps } from './deps.ts';
import { CONNECT_NOT_ENABLED, LeafSigningEndpoint, type LeafSigningSettings } from './leaf-signer.ts';

/** The signed leaf (Consul's IssuedCert), as the agent API answers it. */
export type ServiceLeaf = LeafCert;

/** Store key written once per signed leaf: its revision is the leaf's index (no value is read). */
export const CA_LEAF_INDEX_KEY = 'ca/leaf-index';

/** The server settings the endpoint signs by. */
export type ConnectCASignSettings = LeafSigningSettings;

/** Signs service leaf certificates. */
export class ConnectCASignEndpoint extends LeafSigningEndpoint<ConnectCASignSettings> {
  /** Checks and signs `args.CSR` for the caller `id`; throws with Consul's texts. */
  async sign(args: CASignRequest, id: AclIdentity | undefined): Promise<ServiceLeaf> {
    if (!this.settings.connectEnabled) throw new InternalError(CONNECT_NOT_ENABLED);
    const dc = this.deps.config.datacenter;
    const csr = await this.csr(String(args.CSR ?? ''));
    const svc = parseServiceUri(csr.uris[0]);
    if (!svc) throw new BadRequestError('SPIFFE ID in CSR must be a service or agent ID');
    // service:write in the SPIFFE ID's namespace and partition (Consul's AuthorizeAndSignCertificate
    // fills the authorizer context from the ID's EnterpriseMeta).
    const ent = spiffeEnt(svc.namespace, svc.partition);
    authorize(id, 'serviceWrite', svc.service, entContext(ent));
    if (svc.datacenter !== dc) throw new BadRequestError(`SPIFFE ID in CSR from a different datacenter: ${svc.datacenter}, we are ${dc}`);
    const ca = this.settings.ca();
    const signer = await this.signer(ca);
    const domain = trustDomain(signer.clusterId);
    if (svc.host.toLowerCase() !== domain) throw new InternalError(`SPIFFE ID in CSR from a different trust domain: ${svc.host}, we are ${domain}`);
    const leaf = await this.issue(ca, signer, csr, csr.uris);
    const index = await this.#leafIndex();
    return {
      SerialNumber: leaf.serialNumber, CertPEM: leaf.certPem, PrivateKeyPEM: '',
      Service: svc.service, ServiceURI: csr.uris[0], ValidAfter: goTime(leaf.validAfter), ValidBefore: goTime(leaf.validBefore),
      // IssuedCert's embedded EnterpriseMeta (before the RaftIndex): shown outside the default tenant only.
      ...(isDefaultEnt(ent) ? {} : { Namespace: ent.namespace, Partition: ent.partition }),
      CreateIndex: index, ModifyIndex: index,
    };
  }

  // Consul applies a Raft entry per signed leaf so that each has an index of its own.
  async #leafIndex(): Promise<number> {
    const res = await this.deps.store.txn({ compares: [], success: [{ type: 'put', key: CA_LEAF_INDEX_KEY, value: Buffer.alloc(0) }] });
    return res.revision;
  }
}

/**
 * The tenant a service SPIFFE ID names, folded; a name that is no DNS label is refused as Consul's
 * ParseCertURI would leave it unsignable (no such namespace can exist).
 */
function spiffeEnt(namespace: string, partition: string | undefined): EnterpriseMeta {
  const ns = foldTenancyName(namespace);
  const ap = foldTenancyName(partition ?? DEFAULT_TENANCY_NAME);
  for (const [what, name] of [['namespace', ns], ['partition', ap]] as const) {
    if (!validTenancyName(name)) throw new BadRequestError(`SPIFFE ID in CSR names an invalid ${what}: ${name}`);
  }
  return { namespace: ns, partition: ap };
}
