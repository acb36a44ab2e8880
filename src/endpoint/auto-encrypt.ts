// AutoEncrypt.Sign (Consul's auto_encrypt_endpoint.go with ConnectCA.Sign's agent path): a client
// agent's CSR for its agent SPIFFE ID is checked (Connect on, allow_tls set, same datacenter, one
// agent URI, node:write on the agent's node), its trust domain set to the cluster's, and signed
// by the active built-in CA root (under the CSR rate limit); the answer carries the CA roots, the manually configured CAs
// and whether servers check hostnames.
import { X509Certificate } from 'node:crypto';
import {
  agentUri, goTime, parseAgentUri, rootsResponse, trustDomain, type CARoot, type CARootList, type CASettings,
} from '../connect/index.ts';
import { BadRequestError, InternalError } from '../errors.ts';
import { authorize } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { EndpointDeps } from './deps.ts';
import { CsrGate } from './csr-gate.ts';
import { activeSigner } from './connect-ca-sign.ts';

/** Consul's CASignRequest as a client sends it. */
export interface CASignRequest {
  Datacenter: string;
  CSR: string;
}

/** The signed certificate (Consul's IssuedCert, agent fields). */
export interface IssuedCert {
  SerialNumber: string;
  CertPEM: string;
  /** Empty from the server; the client fills in its own key. */
  PrivateKeyPEM: string;
  Agent: string;
  AgentURI: string;
  ValidAfter: string;
  ValidBefore: string;
}

/** Consul's SignedResponse. */
export interface SignedResponse {
  IssuedCert: IssuedCert;
  ConnectCARoots: CARootList;
  ManualCARoots: string[];
  VerifyServerHostname: boolean;
}

/** Server settings the endpoint answers by. */
export interface AutoEncryptSettings {
  connectEnabled: boolean;
  allowTls: boolean;
  /**
   * The CA configuration's common settings now (leaf TTL, CSR limits), or why the CA refuses its
   * configuration: then it signs nothing, as Consul's uninitialized CA.
   */
  ca(): CASettings;
  /** The internal RPC CA bundle this server was configured with, PEM per file. */
  manualCaPems(): string[];
  verifyServerHostname(): boolean;
}

/** Consul's ErrConnectNotEnabled text. */
export const CONNECT_NOT_ENABLED = 'Connect must be enabled in order to use this endpoint';
/** Consul's ErrAutoEncryptAllowTLSNotEnabled text. */
export const ALLOW_TLS_NOT_ENABLED = 'AutoEncrypt.AllowTLS must be enabled in order to use this endpoint';

/**
 * The CSR parser and the leaf signer, imported on the first AutoEncrypt.Sign that gets past the
 * settings checks: most servers never sign one (issue #9).
 */
const signing = () => Promise.all([import('../connect/csr.ts'), import('../connect/leaf-cert.ts')]);

/** Signs client agents' certificates. */
export class AutoEncryptEndpoint {
  readonly #deps: EndpointDeps;
  readonly #s: AutoEncryptSettings;
  readonly #gate: CsrGate;

  /** `gate` is the server's CSR limit, shared with ConnectCA.Sign. */
  constructor(deps: EndpointDeps, settings: AutoEncryptSettings, gate = new CsrGate(deps.clock)) {
    this.#deps = deps;
    this.#s = settings;
    this.#gate = gate;
  }

  /** Checks and signs `args.CSR` for the caller `id`; throws BadRequestError or PermissionDeniedError with Consul's texts. */
  async sign(args: CASignRequest, id: AclIdentity | undefined): Promise<SignedResponse> {
    const dc = this.#deps.config.datacenter;
    if (!this.#s.connectEnabled) throw new BadRequestError(CONNECT_NOT_ENABLED);
    if (!this.#s.allowTls) throw new BadRequestError(ALLOW_TLS_NOT_ENABLED);
    if (args.Datacenter !== dc) {
      throw new BadRequestError(`mismatched datacenter (client_dc='${args.Datacenter}' server_dc='${dc}'); check client has same datacenter set as servers`);
    }
    const [{ parseCsr }, { signLeaf }] = await signing();
    const ca = this.#s.ca();
    const csr = await parseCsr(String(args.CSR ?? ''));
    if (csr.uris.length !== 1) throw new BadRequestError(`CSR SAN contains an invalid number of URIs: ${csr.uris.length}`);
    if (csr.emails.length > 0) throw new BadRequestError('CSR SAN does not allow specifying email addresses');
    const agent = parseAgentUri(csr.uris[0]);
    if (!agent) throw new BadRequestError('SPIFFE ID in CSR must be a service, mesh-gateway, or agent ID');
    authorize(id, 'nodeWrite', agent.agent);
    const { root, keyPem, clusterId } = await activeSigner(this.#deps, ca);
    // Agents ask before they know the cluster's trust domain; the server sets it.
    const uri = agentUri({ ...agent, host: trustDomain(clusterId) });
    const now = this.#deps.clock.now();
    if (new X509Certificate(root.RootCert).validToDate.getTime() < now) {
      throw new InternalError(`root expired: certificate expired, expiration date: ${root.NotAfter}`);
    }
    const leaf = await this.#gate.run(ca, () => signLeaf({
      spki: csr.spki, uris: [uri], dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses, ttlMs: ca.ok ? ca.config.leafCertTtlMs : 0, nowMs: now,
    }, root.RootCert, keyPem));
    return {
      IssuedCert: {
        // The root's intermediates (after a rotation, its cross-signature) travel with the leaf, as in Consul's SignCertificate.
        SerialNumber: leaf.serialNumber, CertPEM: leaf.certPem + (root.IntermediateCerts ?? []).map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join(''),
        PrivateKeyPEM: '', Agent: agent.agent, AgentURI: uri,
        ValidAfter: goTime(leaf.validAfter), ValidBefore: goTime(leaf.validBefore),
      },
      ConnectCARoots: rootsResponse(this.#deps.replica.caRoots.all() as unknown as CARoot[], clusterId),
      ManualCARoots: this.#s.manualCaPems(),
      VerifyServerHostname: this.#s.verifyServerHostname(),
    };
  }
}
