// How a secondary datacenter's server reaches the primary's Connect CA over the WAN (Consul's
// forwardDC of ConnectCA.Roots and ConnectCA.SignIntermediate, through primary-forward.ts): the
// roots as a blocking read of /v1/connect/ca/roots on a primary server, the intermediate CSR posted
// to its internal RPC route with the replication token.
import type { CARootList } from '../connect/index.ts';
import type { PrimaryCA } from '../leader/ca-secondary.ts';
import type { ForwardResponse } from './forward.ts';
import { callPrimary, type PrimaryForwardDeps } from './primary-forward.ts';
import { CONNECT_CA_SIGN_INTERMEDIATE_PATH } from './rpc-server.ts';

/** What the client needs. */
export interface PrimaryCADeps {
  to: PrimaryForwardDeps;
  /** The longest a blocking read waits on the primary (max_query_time), in ms. */
  maxQueryTimeMs: number;
  /** The agent's replication token (acl.tokens.replication). */
  replicationToken: () => string;
}

/** The primary datacenter's CA, as seen from a secondary's server. */
export function primaryCA(d: PrimaryCADeps): PrimaryCA {
  const ok = (res: ForwardResponse): ForwardResponse => {
    if (res.status !== 200) throw new Error(res.body.toString('utf8').trim() || `status ${res.status}`);
    return res;
  };
  return {
    async roots(minIndex, signal) {
      const query = minIndex > 0 ? `?index=${minIndex}&wait=${d.maxQueryTimeMs}ms` : '';
      const res = ok(await callPrimary(d.to, 'GET', `/v1/connect/ca/roots${query}`, '', { signal }));
      const index = Number(Object.entries(res.headers).find(([k]) => k.toLowerCase() === 'x-consul-index')?.[1] ?? 0) || 0;
      return { index, roots: JSON.parse(res.body.toString('utf8')) as CARootList };
    },
    async signIntermediate(csrPem) {
      const body = Buffer.from(JSON.stringify({ CSR: csrPem }));
      const res = ok(await callPrimary(d.to, 'POST', CONNECT_CA_SIGN_INTERMEDIATE_PATH, d.replicationToken(), { body }));
      return JSON.parse(res.body.toString('utf8')) as string;
    },
  };
}
