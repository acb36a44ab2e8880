// ConnectCA.SignIntermediate (Consul's connect_ca_endpoint.go): the primary datacenter's active root
// signs a secondary datacenter's intermediate CA CSR, for a token with operator:write (the
// secondary sends its replication token). Any server of the primary answers: the root's key is in
// the shared store.
import { InternalError } from '../errors.ts';
import { authorize } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { CONNECT_NOT_ENABLED, LeafSigningEndpoint, type LeafSigningSettings } from './leaf-signer.ts';

/** Consul's ErrNotPrimaryDatacenter text. */
export const NOT_PRIMARY_DATACENTER = 'not the primary datacenter';

/** The body of the SignIntermediate call (Consul's CASignRequest). */
export interface SignIntermediateRequest {
  CSR: string;
}

/** What the endpoint signs by. */
export interface SignIntermediateSettings extends LeafSigningSettings {
  /** primary_datacenter ('' when unset: this datacenter is the primary). */
  primaryDatacenter: string;
}

/** Signs secondary datacenters' intermediate CA certificates with the primary's active root. */
export class ConnectCAIntermediateEndpoint extends LeafSigningEndpoint<SignIntermediateSettings> {
  /** The signed intermediate's PEM; throws with Consul's texts. */
  async sign(args: SignIntermediateRequest, id: AclIdentity | undefined): Promise<string> {
    if (!this.settings.connectEnabled) throw new InternalError(CONNECT_NOT_ENABLED);
    const { primaryDatacenter } = this.settings;
    if (primaryDatacenter !== '' && primaryDatacenter !== this.deps.config.datacenter) throw new InternalError(NOT_PRIMARY_DATACENTER);
    authorize(id, 'operatorWrite');
    const ca = this.settings.ca();
    const signer = await this.signer(ca);
    const [{ parseCsr }, { signIntermediate, IntermediateError }] = await Promise.all([import('../connect/csr.ts'), import('../connect/ca-intermediate.ts')]);
    const csrPem = String(args.CSR ?? '');
    const csr = await parseCsr(csrPem);
    try {
      const ttl = ca.ok ? ca.config.intermediateCertTtlMs : 0;
      return signIntermediate({ csrPem, spki: csr.spki, uris: csr.uris }, signer.root.RootCert, signer.keyPem, signer.clusterId, ttl, this.deps.clock.now());
    } catch (err) {
      if (err instanceof IntermediateError) throw new InternalError(err.message, { cause: err });
      throw err;
    }
  }
}
