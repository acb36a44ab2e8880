// A client agent's service leaf certificates: the same manager as a server's (leaf-certs.ts),
// with the roots read and watched on a server and each CSR posted to a server's ConnectCA.Sign
// over the internal RPC, under the caller's token; a refusal keeps the server's status and text.
import type { Clock } from '../clock.ts';
import type { CARootList } from '../connect/index.ts';
import { BadRequestError, InternalError, PermissionDeniedError, RateLimitedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ServiceLeaf } from '../endpoint/connect-ca-sign.ts';
import type { ForwardResponse, Forwarder, ServerSource } from './forward.ts';
import { LeafCertManager } from './leaf-certs.ts';
import { CONNECT_CA_SIGN_PATH } from './rpc-server.ts';

/** What a client's leaf manager talks through. */
export interface ClientLeafDeps {
  forwarder: Pick<Forwarder, 'send'>;
  servers: ServerSource;
  datacenter: string;
  /** The agent's own token (reads the roots). */
  agentToken(): string;
  maxQueryTimeMs: number;
  clock: Clock;
  random: () => number;
  logger: Logger;
}

/** Typed error for a server's refusal, its text kept. */
export function signRefusal(res: ForwardResponse): Error {
  const text = res.body.toString('utf8').trim() || `server answered ${res.status}`;
  if (res.status === 403) return new PermissionDeniedError(text);
  if (res.status === 429) return new RateLimitedError(text);
  if (res.status === 400) return new BadRequestError(text);
  return new InternalError(text);
}

/** A leaf manager whose roots and signatures come from the servers. */
export function clientLeafCerts(d: ClientLeafDeps): LeafCertManager {
  const headers = (token: string): Record<string, string> => ({ 'content-type': 'application/json', ...(token ? { 'x-consul-token': token } : {}) });
  const roots = async (index: number, signal?: AbortSignal): Promise<{ value: CARootList; index: number }> => {
    const wait = index > 0 ? `?index=${index}&wait=${Math.floor(d.maxQueryTimeMs / 1000)}s` : '';
    const res = await d.forwarder.send(d.servers, { method: 'GET', url: `/v1/connect/ca/roots${wait}`, headers: headers(d.agentToken()), signal });
    if (res.status !== 200) throw signRefusal(res);
    return { value: JSON.parse(res.body.toString('utf8')) as CARootList, index: Number(res.headers['x-consul-index'] ?? 0) };
  };
  return new LeafCertManager({
    datacenter: d.datacenter, clock: d.clock, random: d.random, logger: d.logger,
    roots: async () => (await roots(0)).value,
    watchRoots: roots,
    sign: async (csr, token): Promise<ServiceLeaf> => {
      const body = Buffer.from(JSON.stringify({ Datacenter: d.datacenter, CSR: csr }));
      const res = await d.forwarder.send(d.servers, { method: 'POST', url: CONNECT_CA_SIGN_PATH, body, headers: headers(token) });
      if (res.status !== 200) throw signRefusal(res);
      return JSON.parse(res.body.toString('utf8')) as ServiceLeaf;
    },
  });
}
