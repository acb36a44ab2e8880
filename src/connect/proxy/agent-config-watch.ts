// Sidecar mode's configuration source (Consul's AgentConfigWatcher): the proxy's registration on
// the local agent, read with hash-based blocking queries so a changed registration is seen.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentService, ConsulClient } from '../../api/index.ts';
import type { Logger } from '../../log.ts';
import { watchRetryMs } from './backoff.ts';
import { configFromProxyService, type ProxyConfig } from './config.ts';

/** The proxy configuration from a connect-proxy registration; throws Consul's texts when it is none. */
export function proxyConfigOf(svc: AgentService | null, proxyId: string): ProxyConfig {
  if (!svc) throw new Error(`unknown service ID: ${proxyId}`);
  if (svc.Kind !== 'connect-proxy') throw new Error('service is not a valid connect proxy');
  return configFromProxyService(svc);
}

/**
 * Calls `onChange` with each new configuration of the registration `proxyId` until `signal`
 * aborts, starting after `hash` (the ContentHash of the registration already read).
 */
export async function watchProxyConfig(
  c: ConsulClient, proxyId: string, hash: string, onChange: (cfg: ProxyConfig) => void | Promise<void>, log: Logger, signal: AbortSignal,
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      const res = await c.request({
        method: 'GET', path: `/v1/agent/service/${encodeURIComponent(proxyId)}`, query: { hash, wait: '10m' }, accept: [404], options: { signal },
      });
      const svc = res.status === 404 ? null : (JSON.parse(res.body.toString('utf8')) as AgentService & { ContentHash?: string });
      if (svc?.ContentHash === hash) {
        failures = 0;
        continue;
      }
      hash = svc?.ContentHash ?? '';
      await onChange(proxyConfigOf(svc, proxyId));
      failures = 0;
    } catch (err) {
      if (signal.aborted) return;
      log.error({ service_id: proxyId, error: (err as Error).message }, 'proxy config watch failed');
      await sleep(watchRetryMs(++failures), undefined, { signal }).catch(() => undefined);
    }
  }
}
