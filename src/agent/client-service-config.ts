// Central service config on a client agent: a proxy's resolved defaults come from a server's
// internal RPC (Consul's client calling ConfigEntry.ResolveServiceConfig), as blocking reads.
import { InternalError, PermissionDeniedError } from '../errors.ts';
import type { ServiceConfigResponse } from '../api/service-config-types.ts';
import type { ServiceConfigSource } from './local/service-manager.ts';
import type { ServerCall } from './local/remote-target.ts';
import { SERVICE_CONFIG_RPC_PATH } from './rpc-server.ts';

/** How long one blocking read waits on the server before it answers unchanged. */
const WAIT = '5m';

/** A ServiceConfigSource that asks some server of the datacenter. */
export function remoteServiceConfig(call: ServerCall): ServiceConfigSource {
  return {
    async resolve(req, token, index, signal) {
      // The signal ends the blocking call when its watch stops (deregistration, agent stop).
      const res = await call('POST', `${SERVICE_CONFIG_RPC_PATH}?index=${index}&wait=${WAIT}`, token, req, signal);
      const text = res.body.toString('utf8');
      if (res.status === 403) throw new PermissionDeniedError(text.trim());
      if (res.status !== 200) throw new InternalError(text.trim() || `server answered ${res.status}`);
      return { value: JSON.parse(text) as ServiceConfigResponse, index: Number(res.headers['X-Consul-Index'] ?? 0) };
    },
  };
}
