// The agent's service leaf certificates (Consul's agent/leafcert manager): per service and token,
// the agent makes a key and a CSR for the service's SPIFFE ID, has a server sign it, keeps the
// certificate and renews it in the background at a random moment between 60% and 90% of its
// lifetime, or within a jittered 30 s window once the active CA root no longer signs it. A
// blocking read (`?index=`) waits for the next certificate; each one's index is past the last.
// A certificate nobody asked for in 72 hours is dropped instead of renewed (Consul's cache TTL).
import { X509Certificate } from 'node:crypto';
import type { Clock, TimerHandle } from '../clock.ts';
import { serviceUri, type CARootList } from '../connect/index.ts';
import type { ServiceLeaf } from '../endpoint/connect-ca-sign.ts';
import { InternalError, RateLimitedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { entKey, isDefaultEnt, type EnterpriseMeta } from '../state/index.ts';

/** What the manager needs: the roots, a signer (a server's ConnectCA.Sign), time and randomness. */
export interface LeafCertDeps {
  datacenter: string;
  /** The CA roots now (trust domain and active root). */
  roots(): Promise<CARootList>;
  /** The roots once they changed past `index` (a blocking read); rejects when `signal` aborts. */
  watchRoots(index: number, signal: AbortSignal): Promise<{ value: CARootList; index: number }>;
  /** Signs a CSR under `token`; throws the server's typed error. */
  sign(csrPem: string, token: string): Promise<ServiceLeaf>;
  clock: Clock;
  random: () => number;
  logger: Logger;
  /** Consul's caChangeJitterWindow (30 s); a rate-limited renewal is retried in the next such window. */
  rootChangeJitterMs?: number;
}

/** What a leaf read asks for besides the service and token. */
export interface LeafGetOptions {
  minIndex: number;
  waitMs: number;
  signal?: AbortSignal;
  dnsSans?: string[];
  /** The service's namespace and partition (absent: the default ones). */
  ent?: EnterpriseMeta;
}

/** A leaf read: the certificate with its key, its index, whether it was kept, and since when (ms). */
export interface LeafRead {
  value: ServiceLeaf;
  index: number;
  hit: boolean;
  ageMs: number;
}

interface Entry {
  service: string;
  /** The service's namespace and partition; absent for the default tenant. */
  ent?: EnterpriseMeta;
  token: string;
  /** Extra DNS SANs (an ingress gateway's TLS hosts, as Consul's leaf cache request carries them). */
  dnsSans: string[];
  cert?: ServiceLeaf;
  index: number;
  pending?: Promise<void>;
  timer?: TimerHandle;
  waiters: Set<() => void>;
  /** When the certificate was last asked for, and when it was signed (epoch ms). */
  lastGet: number;
  fetchedAt: number;
  /** The last root (and its signing key) the certificate was checked against, and whether that key signed it. */
  checked?: { rootId: string; signingKeyId: string; signed: boolean };
}

const CA_CHANGE_JITTER_MS = 30_000;
/** A failed renewal (not rate limited) is retried after this long. */
const RETRY_MS = 60_000;
/** A kept certificate not asked for in this long is dropped (Consul's leaf cache entry TTL). */
const UNUSED_TTL_MS = 72 * 3_600_000;

/**
 * Consul's calculateSoftExpiry: the window in which to renew a certificate valid over
 * [validAfter, validBefore], as [min, max] epoch ms; both `now` once past 90% or for a lifetime under 10 minutes.
 */
export function softExpiry(now: number, validAfter: number, validBefore: number): [number, number] {
  const life = validBefore - validAfter;
  if (life < 600_000) return [now, now];
  const soft = validAfter + life * 0.6;
  const hard = validAfter + life * 0.9;
  if (now > hard) return [now, now];
  return [Math.max(soft, now), hard];
}

/** Service leaf certificates kept by one agent. */
export class LeafCertManager {
  readonly #d: LeafCertDeps;
  readonly #entries = new Map<string, Entry>();
  readonly #log: Logger;
  #rootsWatch: AbortController | undefined;
  /** The roots as the watch last saw them; read afresh while no watch runs. */
  #roots: CARootList | undefined;
  #stopped = false;

  constructor(deps: LeafCertDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ '@module': 'agent.leaf-certs' });
  }

  /**
   * The certificate of `service` for `token`: signed on the first read, else the kept one; with
   * `minIndex`, waits up to `waitMs` for one whose index is past it.
   */
  async get(service: string, token: string, opts: LeafGetOptions): Promise<LeafRead> {
    // Consul's leafcert names the request kinds it can sign when none is given.
    if (!service) throw new InternalError('URI must be either service, agent, server, or kind');
    const dnsSans = [...new Set(opts.dnsSans ?? [])].sort();
    const ent = isDefaultEnt(opts.ent) ? undefined : opts.ent;
    const key = entryKey(token, service, dnsSans, ent);
    let e = this.#entries.get(key);
    if (!e) {
      e = { service, token, dnsSans, index: 0, waiters: new Set(), lastGet: 0, fetchedAt: 0 };
      if (ent) e.ent = ent;
      this.#entries.set(key, e);
    }
    e.lastGet = this.#d.clock.now();
    if (!e.cert) {
      try {
        await this.#renew(e);
      } catch (err) {
        if (!e.cert) this.#entries.delete(key);
        throw err;
      }
      this.#watchRoots();
      return { value: e.cert!, index: e.index, hit: false, ageMs: 0 };
    }
    if (opts.minIndex > 0 && e.index <= opts.minIndex) await this.#wait(e, opts.minIndex, opts.waitMs, opts.signal);
    else if (opts.minIndex === 0 && !(await this.#signedByActive(e))) {
      // A non-blocking read never answers a certificate the active root did not sign (Consul's MustRevalidate).
      await this.#renew(e);
    }
    return { value: e.cert!, index: e.index, hit: true, ageMs: this.#d.clock.now() - e.fetchedAt };
  }

  /** Cancels every renewal and the roots watch. */
  stop(): void {
    this.#stopped = true;
    this.#rootsWatch?.abort();
    for (const e of this.#entries.values()) e.timer?.cancel();
    this.#entries.clear();
  }

  #wait(e: Entry, minIndex: number, waitMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        if (e.index <= minIndex && !signal?.aborted && !timedOut) return;
        e.waiters.delete(done);
        timer.cancel();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      let timedOut = false;
      const timer = this.#d.clock.setTimer(waitMs, () => { timedOut = true; done(); });
      signal?.addEventListener('abort', done);
      e.waiters.add(done);
    });
  }

  /** Signs a new certificate for `e` (one signing at a time per entry). */
  #renew(e: Entry): Promise<void> {
    e.pending ??= this.#generate(e).finally(() => { e.pending = undefined; });
    return e.pending;
  }

  async #generate(e: Entry): Promise<void> {
    const roots = await this.#d.roots();
    if (!roots.TrustDomain) throw new InternalError('cluster has no CA bootstrapped yet');
    const { createCsr } = await import('../connect/csr.ts');
    const uri = serviceUri({ host: roots.TrustDomain, namespace: e.ent?.namespace ?? 'default', partition: e.ent?.partition, datacenter: this.#d.datacenter, service: e.service });
    const { csrPem, keyPem } = await createCsr(uri, e.dnsSans, []);
    const signed = await this.#d.sign(csrPem, e.token);
    if (this.#stopped) return;
    // Each certificate's index is past the last one's, so a blocking read always wakes.
    const index = Math.max(signed.ModifyIndex, e.index + 1);
    e.cert = { ...signed, PrivateKeyPEM: keyPem, CreateIndex: index, ModifyIndex: index };
    e.index = index;
    e.checked = undefined;
    const now = this.#d.clock.now();
    e.fetchedAt = now;
    const [min, max] = softExpiry(now, Date.parse(signed.ValidAfter), Date.parse(signed.ValidBefore));
    this.#schedule(e, min + this.#d.random() * (max - min) - now);
    for (const w of [...e.waiters]) w();
  }

  #schedule(e: Entry, ms: number): void {
    e.timer?.cancel();
    e.timer = this.#d.clock.setTimer(Math.max(0, ms), () => {
      e.timer = undefined;
      if (this.#d.clock.now() - e.lastGet > UNUSED_TTL_MS && e.waiters.size === 0) {
        this.#entries.delete(entryKey(e.token, e.service, e.dnsSans, e.ent));
        // No leaf left to keep current: the roots watch ends with the last one (Consul's rootWatcher).
        if (this.#entries.size === 0) this.#stopRootsWatch();
        return;
      }
      this.#renew(e).catch((err: unknown) => {
        const limited = err instanceof RateLimitedError;
        this.#log.warn({ service: e.service, error: (err as Error).message }, 'leaf certificate renewal failed');
        if (!this.#stopped && !e.timer) this.#schedule(e, limited ? this.#jitter() : RETRY_MS);
      });
    });
  }

  #jitter(): number {
    return this.#d.random() * (this.#d.rootChangeJitterMs ?? CA_CHANGE_JITTER_MS);
  }

  /**
   * Whether the active root's signing key signed `e`'s certificate (the root itself, or in a
   * secondary datacenter its intermediate: Consul compares the leaf's key id with SigningKeyID);
   * checked once per certificate, root and signing key.
   */
  async #signedByActive(e: Entry, roots?: CARootList): Promise<boolean> {
    const list = roots ?? this.#roots ?? await this.#d.roots();
    const active = list.Roots.find((r) => r.Active);
    if (!active || !e.cert) return false;
    if (e.checked?.rootId !== active.ID || e.checked.signingKeyId !== active.SigningKeyID) {
      const { signingCert } = await import('../connect/leaf-cert.ts');
      const signed = new X509Certificate(e.cert.CertPEM).verify(new X509Certificate(signingCert(active)).publicKey);
      e.checked = { rootId: active.ID, signingKeyId: active.SigningKeyID, signed };
    }
    return e.checked.signed;
  }

  #stopRootsWatch(): void {
    this.#rootsWatch?.abort();
    this.#rootsWatch = undefined;
    this.#roots = undefined;
  }

  /** One roots watch while certificates are kept: a new active root renews each within the jitter window. */
  #watchRoots(): void {
    if (this.#rootsWatch || this.#stopped) return;
    const ac = new AbortController();
    this.#rootsWatch = ac;
    const loop = async (index: number): Promise<void> => {
      while (!ac.signal.aborted) {
        let next: { value: CARootList; index: number };
        try {
          next = await this.#d.watchRoots(index, ac.signal);
        } catch (err) {
          if (ac.signal.aborted) return;
          if (this.#rootsWatch === ac) this.#roots = undefined;
          this.#log.warn({ error: (err as Error).message }, 'CA roots watch failed');
          await new Promise<void>((r) => this.#d.clock.setTimer(5_000, r));
          continue;
        }
        if (next.index === index || ac.signal.aborted) continue;
        index = next.index;
        this.#roots = next.value;
        for (const e of this.#entries.values()) {
          if (e.cert && !(await this.#signedByActive(e, next.value))) this.#schedule(e, this.#jitter());
        }
      }
    };
    void loop(0);
  }
}

/**
 * A kept certificate's key: the token, the service and any extra DNS SANs, then the service's
 * `<ap>/<ns>` outside the default tenant (a DNS SAN is never empty, so the two cannot collide).
 */
function entryKey(token: string, service: string, dnsSans: string[], ent?: EnterpriseMeta): string {
  const key = [token, service, ...dnsSans].join('\u0000');
  return ent ? `${key}\u0000\u0000${entKey(ent)}` : key;
}
