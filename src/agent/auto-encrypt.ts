// A client agent's auto_encrypt (Consul's autoEncryptInitialCerts and its agent leaf renewal):
// before joining, it makes a key and a CSR for its agent SPIFFE ID (localhost, 127.0.0.1, ::1 and
// auto_encrypt's SANs) and posts it under its agent token to a server's AutoEncrypt.Sign, over
// TLS checked against its configured CAs but without a client certificate, at each retry_join
// host on ports.server until one answers. The signed certificate, the Connect roots, the servers'
// CAs and their hostname rule go to the TlsConfigurator; the certificate is renewed over the
// agent's mutual TLS RPC (or the join hosts, when that fails) at a random point between 60% and
// 90% of its lifetime, and through the certificate-less path again once it has expired.
import type { RequestOptions } from 'node:https';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { agentUri } from '../connect/index.ts';
import { createCsr } from '../connect/csr.ts';
import type { SignedResponse } from '../endpoint/auto-encrypt.ts';
import { nodeHttps } from '../node-http.ts';
import { joinHostPort } from '../host-port.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { AUTO_ENCRYPT_SIGN_PATH } from './rpc-server.ts';
import type { TlsConfigurator } from './tls-configurator.ts';

/** Consul's unknownTrustDomain: agents ask before they know the cluster's; the server sets it. */
const UNKNOWN_TRUST_DOMAIN = 'unknown';
const REQUEST_TIMEOUT_MS = 10_000;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/** What the client agent's auto_encrypt needs. */
export interface AutoEncryptDeps {
  config: RuntimeConfig;
  tls: Pick<TlsConfigurator, 'updateAutoTls' | 'insecureRpc'>;
  /** The agent token (Consul's AgentToken: acl.tokens.agent, else the default token). */
  token(): string;
  /**
   * Posts a sign request through the agent's RPC to a known server (mutual TLS with the current
   * certificate); rejects when no server is known or none answers.
   */
  call(body: Buffer, token: string): Promise<{ status: number; body: Buffer }>;
  clock: Clock;
  random(): number;
  logger: Logger;
  /** Called after each new certificate (the HTTPS listener takes it). */
  onUpdate?(): void;
  /** Waits between attempts of the first request (a real, ref'd timer by default: nothing else keeps the process up yet). */
  sleep?(ms: number): Promise<void>;
}

/** When to renew a certificate: a random point between 60% and 90% of its lifetime (ms from `now`, ≥ 0). */
export function renewDelay(validAfter: number, validBefore: number, now: number, random: number): number {
  const life = validBefore - validAfter;
  return Math.max(0, Math.round(validAfter + life * (0.6 + 0.3 * random) - now));
}

/** The hosts of retry_join addresses, their ports dropped (they are gossip ports; RPC goes to ports.server). */
export function joinHosts(addrs: string[]): string[] {
  const hosts: string[] = [];
  for (const a of addrs) {
    if (a.includes('provider=')) continue;
    const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
    if (bracket) hosts.push(bracket[1]);
    else if ((a.match(/:/g) ?? []).length === 1) hosts.push(a.split(':')[0]);
    else hosts.push(a);
  }
  return hosts;
}

/** A client agent's automatic certificate: the first one before it joins, then renewals. */
export class AutoEncrypt {
  readonly #d: AutoEncryptDeps;
  readonly #log: Logger;
  #timer: TimerHandle | null = null;
  #stopped = false;
  #validBefore = 0;
  /** Renewals failed in a row (the retry backoff). */
  #failures = 0;
  /** Ends the wait between first attempts (stop()). */
  #wake: (() => void) | null = null;

  constructor(deps: AutoEncryptDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ '@module': 'agent.auto_config' });
  }

  /** Gets the first certificate, retrying (1 s doubling to 30 s) until a server signs it or stop(); then schedules renewal. */
  async start(): Promise<void> {
    // The default wait is a ref'd timer that stop() clears, so a stopped agent's process can exit.
    const sleep = this.#d.sleep ?? ((ms: number) => new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.#wake = () => {
        clearTimeout(t);
        r();
      };
    }));
    for (let wait = RETRY_MIN_MS; !this.#stopped; wait = Math.min(wait * 2, RETRY_MAX_MS)) {
      try {
        await this.#apply(await this.#viaJoinHosts());
        this.#log.info({}, 'automatically upgraded to TLS');
        return;
      } catch (err) {
        this.#log.error({ error: (err as Error).message }, 'auto-encrypt request failed');
      }
      // Stopped during the request: stop() found no wait to end, so none may start.
      if (this.#stopped) return;
      await sleep(wait);
      this.#wake = null;
    }
  }

  /** Stops renewals and a first request still retrying. */
  stop(): void {
    this.#stopped = true;
    this.#wake?.();
    this.#timer?.cancel();
    this.#timer = null;
  }

  async #request(): Promise<{ body: Buffer; keyPem: string }> {
    const { config } = this.#d;
    const ae = config.autoEncrypt;
    const uri = agentUri({ host: UNKNOWN_TRUST_DOMAIN, datacenter: config.datacenter, agent: config.nodeName });
    const { csrPem, keyPem } = await createCsr(uri, ['localhost', ...(ae?.dnsSan ?? [])], ['127.0.0.1', '::1', ...(ae?.ipSan ?? [])]);
    return { body: Buffer.from(JSON.stringify({ Datacenter: config.datacenter, CSR: csrPem })), keyPem };
  }

  async #viaJoinHosts(): Promise<{ res: SignedResponse; keyPem: string }> {
    const options = this.#d.tls.insecureRpc();
    if (!options) throw new Error('auto_encrypt.tls needs tls.internal_rpc.ca_file or ca_path to check the servers');
    const hosts = joinHosts(this.#d.config.gossip?.retryJoin ?? []);
    if (hosts.length === 0) throw new Error('no auto-encrypt server addresses available for use');
    const { body, keyPem } = await this.#request();
    const port = this.#d.config.ports.server;
    for (const host of hosts) {
      try {
        this.#log.debug({ addr: joinHostPort(host, port) }, 'making AutoEncrypt.Sign RPC');
        return { res: parseSigned(await post(host, port, body, this.#d.token(), options)), keyPem };
      } catch (err) {
        this.#log.error({ addr: joinHostPort(host, port), error: (err as Error).message }, 'AutoEncrypt.Sign RPC failed');
      }
    }
    throw new Error('No servers successfully responded to the auto-encrypt request');
  }

  async #apply({ res, keyPem }: { res: SignedResponse; keyPem: string }): Promise<void> {
    const cert = res.IssuedCert;
    this.#d.tls.updateAutoTls({
      certPem: cert.CertPEM, keyPem, connectCaPems: (res.ConnectCARoots.Roots ?? []).map((r) => r.RootCert),
      manualCaPems: res.ManualCARoots ?? [], verifyServerHostname: res.VerifyServerHostname,
    });
    this.#d.onUpdate?.();
    this.#validBefore = Date.parse(cert.ValidBefore);
    this.#schedule(renewDelay(Date.parse(cert.ValidAfter), this.#validBefore, this.#d.clock.now(), this.#d.random()));
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#timer = this.#d.clock.setTimer(ms, () => void this.#renew());
  }

  async #renew(): Promise<void> {
    try {
      if (this.#d.clock.now() >= this.#validBefore) {
        this.#log.warn({}, "agent's client certificate has expired");
        await this.#apply(await this.#viaJoinHosts());
      } else {
        await this.#apply(await this.#viaRpc().catch((err: Error) => {
          // No server known yet, or none answering over RPC: the join hosts take the request too.
          this.#log.warn({ error: err.message }, 'renewal over RPC failed; asking the join hosts');
          return this.#viaJoinHosts();
        }));
      }
      this.#failures = 0;
      this.#log.info({}, 'renewed the agent TLS certificate');
    } catch (err) {
      this.#log.error({ error: (err as Error).message }, 'failed to renew the agent TLS certificate');
      // Again with backoff, and at the latest when the certificate expires (then through the fallback).
      const backoff = Math.min(RETRY_MIN_MS * 2 ** this.#failures++, RETRY_MAX_MS);
      const left = this.#validBefore - this.#d.clock.now();
      this.#schedule(left > 0 ? Math.min(backoff, left) : backoff);
    }
  }

  async #viaRpc(): Promise<{ res: SignedResponse; keyPem: string }> {
    const { body, keyPem } = await this.#request();
    const r = await this.#d.call(body, this.#d.token());
    if (r.status !== 200) throw new Error(`Unexpected response code: ${r.status} (${r.body.toString('utf8').trim()})`);
    return { res: parseSigned(r.body), keyPem };
  }
}

function parseSigned(body: Buffer | string): SignedResponse {
  const res = JSON.parse(body.toString()) as SignedResponse;
  if (!res?.IssuedCert?.CertPEM) throw new Error('AutoEncrypt.Sign answered without a certificate');
  return res;
}

function post(host: string, port: number, body: Buffer, token: string, tls: RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = nodeHttps.request({
      ...tls, host, port, method: 'POST', path: AUTO_ENCRYPT_SIGN_PATH, agent: false, timeout: REQUEST_TIMEOUT_MS,
      headers: { 'content-type': 'application/json', 'content-length': body.length, ...(token ? { 'x-consul-token': token } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`Unexpected response code: ${res.statusCode} (${text.trim()})`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
