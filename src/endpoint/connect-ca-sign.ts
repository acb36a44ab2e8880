// ConnectCA.Sign for service identities (Consul's connect_ca_endpoint.go Sign with
// CAManager.AuthorizeAndSignCertificate/SignCertificate): a CSR naming one service SPIFFE ID of
// this datacenter and the cluster's trust domain, signed by the active built-in CA root for the
// stored configuration's leaf TTL under the server's CSR limit, after service:write is checked.
// Each signing is a store write whose revision is the certificate's index (ApplyCALeafRequest).
import { X509Certificate } from 'node:crypto';
import { goTime, parseServiceUri, trustDomain, type CARoot, type CASettings } from '../connect/index.ts';
import { BadRequestError, InternalError } from '../errors.ts';
import { authorize } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { CASignRequest } from './auto-encrypt.ts';
import type { LeafCert } from '../api/connect-types.ts';
import { CsrGate } from './csr-gate.ts';
import type { EndpointDeps } from './deps.ts';

/** The signed leaf (Consul's IssuedCert), as the agent API answers it. */
export type ServiceLeaf = LeafCert;

/** Store key written once per signed leaf: its revision is the leaf's index (no value is read). */
export const CA_LEAF_INDEX_KEY = 'ca/leaf-index';
const CONNECT_NOT_ENABLED = 'Connect must be enabled in order to use this endpoint';
const UNINITIALIZED = 'CA is uninitialized and unable to sign certificates yet';

/** The server settings the endpoint signs by. */
export interface ConnectCASignSettings {
  connectEnabled: boolean;
  /** The CA configuration's common settings now, or why the CA refuses it. */
  ca(): CASettings;
}

/** The CSR parser and the leaf signer, imported on the first signing (issue #9). */
const signing = () => Promise.all([import('../connect/csr.ts'), import('../connect/leaf-cert.ts')]);

/** The active root, its key and the cluster id; throws Consul's uninitialized-CA errors. */
export async function activeSigner(deps: EndpointDeps, ca: CASettings): Promise<{ root: CARoot; keyPem: string; clusterId: string }> {
  const { replica, store } = deps;
  if (!ca.ok) throw new InternalError(`${UNINITIALIZED}: provider is nil`);
  const root = (replica.caRoots.all() as unknown as CARoot[]).find((r) => r.Active);
  if (!root) throw new InternalError(`${UNINITIALIZED}: no root certificate`);
  const key = await store.get(`ca/key/${root.ID}`);
  if (!key) throw new InternalError(`${UNINITIALIZED}: provider is nil`);
  return { root, keyPem: Buffer.from(key.value).toString('utf8'), clusterId: replica.meta.get('cluster')?.ClusterID ?? '' };
}

/** Signs service leaf certificates. */
export class ConnectCASignEndpoint {
  readonly #deps: EndpointDeps;
  readonly #s: ConnectCASignSettings;
  readonly #gate: CsrGate;

  /** `gate` is the server's CSR limit, shared with AutoEncrypt.Sign. */
  constructor(deps: EndpointDeps, settings: ConnectCASignSettings, gate = new CsrGate(deps.clock)) {
    this.#deps = deps;
    this.#s = settings;
    this.#gate = gate;
  }

  /** Checks and signs `args.CSR` for the caller `id`; throws with Consul's texts. */
  async sign(args: CASignRequest, id: AclIdentity | undefined): Promise<ServiceLeaf> {
    if (!this.#s.connectEnabled) throw new InternalError(CONNECT_NOT_ENABLED);
    const dc = this.#deps.config.datacenter;
    const [{ parseCsr }, { signLeaf }] = await signing();
    const csr = await parseCsr(String(args.CSR ?? ''));
    if (csr.uris.length !== 1) throw new BadRequestError(`CSR SAN contains an invalid number of URIs: ${csr.uris.length}`);
    if (csr.emails.length > 0) throw new BadRequestError('CSR SAN does not allow specifying email addresses');
    const svc = parseServiceUri(csr.uris[0]);
    if (!svc) throw new BadRequestError('SPIFFE ID in CSR must be a service or agent ID');
    authorize(id, 'serviceWrite', svc.service);
    if (svc.datacenter !== dc) throw new BadRequestError(`SPIFFE ID in CSR from a different datacenter: ${svc.datacenter}, we are ${dc}`);
    const ca = this.#s.ca();
    const { root, keyPem, clusterId } = await activeSigner(this.#deps, ca);
    // validateSupportedIdentityScopesInCertificate: CE signs the default namespace only.
    if (svc.namespace !== 'default') {
      throw new BadRequestError(`Non default partition or namespace is supported in Enterprise only.Provided namespace is ${svc.namespace} and partition is default`);
    }
    const domain = trustDomain(clusterId);
    if (svc.host.toLowerCase() !== domain) throw new InternalError(`SPIFFE ID in CSR from a different trust domain: ${svc.host}, we are ${domain}`);
    const now = this.#deps.clock.now();
    if (new X509Certificate(root.RootCert).validToDate.getTime() < now) {
      throw new InternalError(`root expired: certificate expired, expiration date: ${root.NotAfter}`);
    }
    const leaf = await this.#gate.run(ca, () => signLeaf({
      spki: csr.spki, uris: csr.uris, dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses, ttlMs: ca.ok ? ca.config.leafCertTtlMs : 0, nowMs: now,
    }, root.RootCert, keyPem));
    const index = await this.#leafIndex();
    return {
      SerialNumber: leaf.serialNumber, CertPEM: leaf.certPem + (root.IntermediateCerts ?? []).map(withNewline).join(''), PrivateKeyPEM: '',
      Service: svc.service, ServiceURI: csr.uris[0], ValidAfter: goTime(leaf.validAfter), ValidBefore: goTime(leaf.validBefore),
      CreateIndex: index, ModifyIndex: index,
    };
  }

  // Consul applies a Raft entry per signed leaf so that each has an index of its own.
  async #leafIndex(): Promise<number> {
    const res = await this.#deps.store.txn({ compares: [], success: [{ type: 'put', key: CA_LEAF_INDEX_KEY, value: Buffer.alloc(0) }] });
    return res.revision;
  }
}

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
