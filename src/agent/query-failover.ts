// Prepared query failover over the WAN (Consul's queryServerWrapper): the other datacenters of
// the WAN pool nearest first, and ExecuteRemote sent to a server of the chosen datacenter over
// the internal RPC, with the caller's token.
import type { Logger } from '../log.ts';
import type { Abortable } from '../state/notify.ts';
import type { ExecuteResult, QueryFailover, RemoteExecuteRequest } from '../endpoint/prepared-query-exec.ts';
import { EXECUTE_REMOTE_PATH } from '../http/v1/query-internal.ts';
import { InternalError, errNoPathToDatacenter } from '../errors.ts';
import { Forwarder } from './forward.ts';
import type { WanPool } from './wan-pool.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { TlsConfigurator } from './tls-configurator.ts';

/** Failover through `wan`'s datacenters. */
export function queryFailover(
  wan: Pick<WanPool, 'datacenters' | 'rpcAddresses'>, config: Pick<RuntimeConfig, 'datacenter' | 'bindAddr'>, logger: Logger,
  tls?: Pick<TlsConfigurator, 'outgoingRpc'>, crossDc?: (datacenter: string) => void,
): QueryFailover {
  const forwarder = new Forwarder({ logger, localAddress: config.bindAddr, tls, crossDc });
  return {
    datacentersByDistance: () => wan.datacenters().filter((dc) => dc !== config.datacenter),
    async executeRemote(dc: string, req: RemoteExecuteRequest, token: string, signal?: Abortable): Promise<ExecuteResult> {
      const servers = wan.rpcAddresses(dc);
      if (servers.length === 0) throw errNoPathToDatacenter();
      const res = await forwarder.send({ servers: () => servers, datacenter: dc }, {
        method: 'POST', url: EXECUTE_REMOTE_PATH, body: Buffer.from(JSON.stringify(req)), signal,
        headers: { 'content-type': 'application/json', ...(token ? { 'x-consul-token': token } : {}) },
      });
      if (res.status !== 200) throw new InternalError(res.body.toString('utf8').trim() || `status ${res.status}`);
      return JSON.parse(res.body.toString('utf8')) as ExecuteResult;
    },
  };
}
