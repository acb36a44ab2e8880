// How a secondary datacenter's server reaches the primary's Connect CA over the WAN (Consul's
// forwardDC of ConnectCA.Roots and ConnectCA.SignIntermediate): the roots as a blocking read of
// /v1/connect/ca/roots on a primary server, the intermediate CSR posted to its internal RPC route
// with the replication token.
import type { CARootList } from '../connect/index.ts';
import { errNoPathToDatacenter } from '../errors.ts';
import type { PrimaryCA } from '../leader/ca-secondary.ts';
import type { Forwarder, ForwardResponse } from './forward.ts';
import type { DatacenterRoutes } from './dc-forward.ts';
import { CONNECT_CA_SIGN_INTERMEDIATE_PATH } from './rpc-server.ts';

/** What the client needs. */
export interface PrimaryCADeps {
  primaryDatacenter: string;
  routes: DatacenterRoutes;
  forwarder: Pick<Forwarder, 'send'>;
  /** The longest a blocking read waits on the primary (max_query_time), in ms. */
  maxQueryTimeMs: number;
  /** The agent's replication token (acl.tokens.replication). */
  replicationToken: () => string;
}

/** The primary datacenter's CA, as seen from a secondary's server. */
export function primaryCA(d: PrimaryCADeps): PrimaryCA {
  const send = async (method: string, url: string, headers: Record<string, string>, body?: Buffer, signal?: AbortSignal): Promise<ForwardResponse> => {
    const servers = d.routes.rpcAddresses(d.primaryDatacenter);
    if (servers.length === 0) throw errNoPathToDatacenter();
    const res = await d.forwarder.send({ servers: () => servers, datacenter: d.primaryDatacenter }, { method, url, headers, body, signal });
    if (res.status !== 200) throw new Error(res.body.toString('utf8').trim() || `status ${res.status}`);
    return res;
  };
  return {
    async roots(minIndex, signal) {
      const query = minIndex > 0 ? `?index=${minIndex}&wait=${d.maxQueryTimeMs}ms` : '';
      const res = await send('GET', `/v1/connect/ca/roots${query}`, {}, undefined, signal);
      const index = Number(Object.entries(res.headers).find(([k]) => k.toLowerCase() === 'x-consul-index')?.[1] ?? 0) || 0;
      return { index, roots: JSON.parse(res.body.toString('utf8')) as CARootList };
    },
    async signIntermediate(csrPem) {
      const token = d.replicationToken();
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { 'x-consul-token': token } : {}) };
      const res = await send('POST', CONNECT_CA_SIGN_INTERMEDIATE_PATH, headers, Buffer.from(JSON.stringify({ CSR: csrPem })));
      return JSON.parse(res.body.toString('utf8')) as string;
    },
  };
}
