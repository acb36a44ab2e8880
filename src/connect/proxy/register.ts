// -register (Consul's command/connect/proxy RegisterMonitor): the proxy registers itself as a
// connect-proxy `<service>-proxy[-<suffix>]` with a 30s TTL check it passes every 10s, re-registers
// every 30s when the catalog lost or changed it, and deregisters on close.
import { ApiError, type ConsulClient } from '../../api/index.ts';
import type { Logger } from '../../log.ts';

/** What to register. */
export interface RegisterOptions {
  service: string;
  idSuffix: string;
  address: string;
  port: number;
}

const RECONCILE_MS = 30_000;
const TTL_MS = 30_000;

/** The proxy service ID: `<service>-proxy`, plus `-<suffix>` when given. */
export function proxyServiceId(o: RegisterOptions): string {
  return `${o.service}-proxy${o.idSuffix ? `-${o.idSuffix}` : ''}`;
}

/** Starts the monitor; the returned function stops it and deregisters. */
export function startRegisterMonitor(c: ConsulClient, o: RegisterOptions, log: Logger): () => Promise<void> {
  const id = proxyServiceId(o);
  const name = `${o.service}-proxy`;
  const checkId = `${id}-ttl`;
  const register = async () => {
    try {
      const current = (await c.catalog.service(name, { stale: true })).data.find((s) => s.ServiceID === id);
      if (current && current.ServiceAddress === o.address && current.ServicePort === o.port) {
        log.debug('service already registered, not re-registering');
        return;
      }
    } catch { /* register anyway */ }
    try {
      await c.agent.serviceRegister({
        Kind: 'connect-proxy', ID: id, Name: name, Address: o.address, Port: o.port,
        Proxy: { DestinationServiceName: o.service },
        Check: { CheckID: checkId, Name: 'proxy heartbeat', TTL: '30s', Notes: 'Built-in proxy will heartbeat this check.', Status: 'passing' },
      } as Parameters<ConsulClient['agent']['serviceRegister']>[0]);
      log.info({ service: id }, 'registered Consul service');
    } catch (err) {
      log.warn({ error: (err as Error).message }, 'Failed to register Consul service');
    }
  };
  const heartbeat = async () => {
    try {
      await c.request({ method: 'PUT', path: `/v1/agent/check/pass/${encodeURIComponent(checkId)}` });
    } catch (err) {
      // Not registered (yet, or any more): the next reconcile registers it again.
      const msg = (err as Error).message;
      if (!msg.includes('does not have associated') && !msg.includes('Unknown check ID')) log.warn({ error: msg }, 'heartbeat failed');
    }
  };
  void register();
  const reconcile = setInterval(() => void register(), RECONCILE_MS);
  const beat = setInterval(() => void heartbeat(), TTL_MS / 3);
  return async () => {
    clearInterval(reconcile);
    clearInterval(beat);
    log.info('stop request received, deregistering');
    for (let i = 0; i < 3; i++) {
      try {
        await c.agent.serviceDeregister(id);
        return;
      } catch (err) {
        // Already gone (the agent's 404 for an unknown ID): nothing left to retry.
        if (err instanceof ApiError && err.statusCode === 404) return;
        log.warn({ error: (err as Error).message }, 'service deregister failed');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
}
