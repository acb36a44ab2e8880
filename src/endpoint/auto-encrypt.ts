// AutoEncrypt.Sign (Consul's auto_encrypt_endpoint.go with ConnectCA.Sign's agent path): a client
// agent's CSR for its agent SPIFFE ID is checked (Connect on, allow_tls set, same datacenter, one
// agent URI, node:write on the agent's node), its trust domain set to the cluster's, and signed
// by the active built-in CA root (under the CSR rate limit); the answer carries the CA roots, the manually configured CAs
// and whether servers check hostnames.
import { agentUri, goTime, parseAgentUri, rootsResponse, trustDomain, type CARoot, type CARootList } from '../connect/index.ts';
import { BadRequestError } from '../errors.ts';
import { authorize } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { EndpointDeps } from './deps.ts';
import { CONNECT_NOT_ENABLED, LeafSigningEndpoint, type LeafSigningSettings } from './leaf-signer.ts';

export { CONNECT_NOT_ENABLED } from './leaf-signer.ts';

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

/** Server settings the endpoint answers by (besides Connect and the CA's settings). */
export interface AutoEncryptSettings extends LeafSigningSettings {
  allowTls: boolean;
  /** The internal RPC CA bundle this server was configured with, PEM per file. */
  manualCaPems(): string[];
  verifyServerHostname(): boolean;
}

/** Consul's ErrAutoEncryptAllowTLSNotEnabled text. */
export const ALLOW_TLS_NOT_ENABLED = 'AutoEncrypt.AllowTLS must be enabled in order to use this endpoint';

/** Signs client agents' certificates. */
export class AutoEncryptEndpoint extends LeafSigningEndpoint<AutoEncryptSettings> {
  /** Checks and signs `args.CSR` for the caller `id`; throws BadRequestError or PermissionDeniedError with Consul's texts. */
  async sign(args: CASignRequest, id: AclIdentity | undefined): Promise<SignedResponse> {
    const dc = this.deps.config.datacenter;
    if (!this.settings.connectEnabled) throw new BadRequestError(CONNECT_NOT_ENABLED);
    if (!this.settings.allowTls) throw new BadRequestError(ALLOW_TLS_NOT_ENABLED);
    if (args.Datacenter !== dc) {
      throw new BadRequestError(`mismatched datacenter (client_dc='${args.Datacenter}' server_dc='${dc}'); check client has same datacenter set as servers`);
    }
    const ca = this.settings.ca();
    const csr = await this.csr(String(args.CSR ?? ''));
    const agent = parseAgentUri(csr.uris[0]);
    if (!agent) throw new BadRequestError('SPIFFE ID in CSR must be a service, mesh-gateway, or agent ID');
    authorize(id, 'nodeWrite', agent.agent);
    const signer = await this.signer(ca);
    // Agents ask before they know the cluster's trust domain; the server sets it.
    const uri = agentUri({ ...agent, host: trustDomain(signer.clusterId) });
    const leaf = await this.issue(ca, signer, csr, [uri]);
    return {
      IssuedCert: {
        SerialNumber: leaf.serialNumber, CertPEM: leaf.certPem, PrivateKeyPEM: '', Agent: agent.agent, AgentURI: uri,
        ValidAfter: goTime(leaf.validAfter), ValidBefore: goTime(leaf.validBefore),
      },
      ConnectCARoots: rootsResponse(this.deps.replica.caRoots.all() as unknown as CARoot[], signer.clusterId),
      ManualCARoots: this.settings.manualCaPems(),
      VerifyServerHostname: this.settings.verifyServerHostname(),
    };
  }
}
