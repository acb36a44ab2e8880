// The set-up and signing steps ConnectCA.Sign and AutoEncrypt.Sign share (Consul's CAManager
// SignCertificate), as one base class: deps, settings and the server-wide CSR limit; the CSR's SAN
// rules, the active root and its key, the root's expiry and the issued chain with the root's
// intermediates. Each endpoint keeps its own checks (settings, SPIFFE ID kind, ACL, datacenter,
// trust domain) and their order, between these steps.
import { X509Certificate } from 'node:crypto';
import type { CARoot, CASettings, ParsedCsr } from '../connect/index.ts';
import { BadRequestError, InternalError } from '../errors.ts';
import { CsrGate } from './csr-gate.ts';
import type { EndpointDeps } from './deps.ts';
import { consistentRead } from './query.ts';

/** Consul's ErrConnectNotEnabled text. */
export const CONNECT_NOT_ENABLED = 'Connect must be enabled in order to use this endpoint';
const UNINITIALIZED = 'CA is uninitialized and unable to sign certificates yet';

/** The server settings every leaf signer reads. */
export interface LeafSigningSettings {
  connectEnabled: boolean;
  /**
   * The CA configuration's common settings now (leaf TTL, CSR limits), or why the CA refuses its
   * configuration: then it signs nothing, as Consul's uninitialized CA.
   */
  ca(): CASettings;
}

/** The active root, its private key and the cluster id (for the trust domain). */
export interface ActiveSigner {
  root: CARoot;
  keyPem: string;
  clusterId: string;
}

/** A signed leaf: `certPem` is the leaf followed by the root's intermediates. */
export interface IssuedLeaf {
  serialNumber: string;
  certPem: string;
  validAfter: Date;
  validBefore: Date;
}

/**
 * The CSR parser and the leaf signer, imported on the first signing that gets past an endpoint's
 * settings checks: most servers never sign one (issue #9).
 */
const signing = () => Promise.all([import('../connect/csr.ts'), import('../connect/leaf-cert.ts')]);

// The active root, its key and the cluster id; throws Consul's uninitialized-CA errors.
async function activeSigner(deps: EndpointDeps, ca: CASettings): Promise<ActiveSigner> {
  const { replica, store } = deps;
  if (!ca.ok) throw new InternalError(`${UNINITIALIZED}: provider is nil`);
  const activeRoot = (): CARoot | undefined => (replica.caRoots.all() as unknown as CARoot[]).find((r) => r.Active);
  let root = activeRoot();
  if (!root) throw new InternalError(`${UNINITIALIZED}: no root certificate`);
  let key = await store.get(`ca/key/${root.ID}`);
  if (!key || key.modRevision > replica.appliedRevision) {
    // A rotation committed after the replica was read (or the replica lags the store): the old
    // root's key went with it. Or the key is newer than the root read (a secondary datacenter's
    // renewed intermediate keeps the root's ID): the root read names the old intermediate. Read
    // both again once the replica holds every committed write.
    await consistentRead(deps);
    root = activeRoot();
    if (!root) throw new InternalError(`${UNINITIALIZED}: no root certificate`);
    key = await store.get(`ca/key/${root.ID}`);
  }
  if (!key) throw new InternalError(`${UNINITIALIZED}: provider is nil`);
  return { root, keyPem: Buffer.from(key.value).toString('utf8'), clusterId: replica.meta.get('cluster')?.ClusterID ?? '' };
}

/** What an endpoint that signs leaves from CSRs is built on: its deps, its settings and the server's CSR limit. */
export abstract class LeafSigningEndpoint<S extends LeafSigningSettings> {
  protected readonly deps: EndpointDeps;
  protected readonly settings: S;
  readonly #gate: CsrGate;

  /** `gate` is the server's CSR limit, one for every endpoint that signs (ConnectCA.Sign and AutoEncrypt.Sign). */
  constructor(deps: EndpointDeps, settings: S, gate = new CsrGate(deps.clock)) {
    this.deps = deps;
    this.settings = settings;
    this.#gate = gate;
  }

  /** Parses a CSR and applies the SAN rules every signing shares: exactly one URI, no email address. */
  protected async csr(pem: string): Promise<ParsedCsr> {
    const [{ parseCsr }] = await signing();
    const csr = await parseCsr(pem);
    if (csr.uris.length !== 1) throw new BadRequestError(`CSR SAN contains an invalid number of URIs: ${csr.uris.length}`);
    if (csr.emails.length > 0) throw new BadRequestError('CSR SAN does not allow specifying email addresses');
    return csr;
  }

  /** The active root, its key and the cluster id; throws Consul's uninitialized-CA errors. */
  protected signer(ca: CASettings): Promise<ActiveSigner> {
    return activeSigner(this.deps, ca);
  }

  /** Signs `csr`'s key for `uris` with the active root once it is known unexpired, under the CSR limit. */
  protected async issue(ca: CASettings, signer: ActiveSigner, csr: ParsedCsr, uris: string[]): Promise<IssuedLeaf> {
    const [, { signLeaf, signingCert }] = await signing();
    const { root, keyPem } = signer;
    const now = this.deps.clock.now();
    if (new X509Certificate(root.RootCert).validToDate.getTime() < now) {
      throw new InternalError(`root expired: certificate expired, expiration date: ${goTimeString(new X509Certificate(root.RootCert).validToDate)} `);
    }
    // A secondary datacenter signs with its intermediate (the certificate whose key id is the root's SigningKeyID).
    const issuer = signingCert(root);
    if (issuer !== root.RootCert) {
      const validTo = new X509Certificate(issuer).validToDate;
      if (validTo.getTime() < now) throw new InternalError(`intermediate expired: certificate expired, expiration date: ${goTimeString(validTo)} `);
    }
    const leaf = await this.#gate.run(ca, () => signLeaf({
      spki: csr.spki, uris, dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses, ttlMs: ca.ok ? ca.config.leafCertTtlMs : 0, nowMs: now,
    }, issuer, keyPem));
    // The root's intermediates (after a rotation, its cross-signature) travel with the leaf, as in Consul's SignCertificate.
    const certPem = leaf.certPem + (root.IntermediateCerts ?? []).map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
    return { serialNumber: leaf.serialNumber, certPem, validAfter: leaf.validAfter, validBefore: leaf.validBefore };
  }
}

// Go's time.Time String of a certificate's (whole-second, UTC) time, as Consul's checkExpired prints it.
function goTimeString(d: Date): string {
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC');
}
