// The web UI as an agent serves it, server or client alike: the static UI and index settings
// from ui_config, and the metrics proxy; both are agent-local (the UI reads themselves go to a
// server like every catalog read).
import type { Logger } from '../log.ts';
import type { Handler, RequestConfig } from '../http/index.ts';
import { uiHandlers, type UiHandlers } from '../http/ui-server.ts';
import { metricsProxyHandler } from '../http/v1/ui-metrics-proxy.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { DEFAULT_UI_CONFIG, uiServed } from './config/ui-config.ts';

/** The agent's peering.enabled (Consul's default: true). */
export function peeringOn(config: RuntimeConfig): boolean {
  return (config.raw.peering as { enabled?: unknown } | undefined)?.enabled !== false;
}

/** The UI handlers and the metrics proxy of one agent. */
export function agentUi(config: RuntimeConfig, reqCfg: RequestConfig, logger: Logger): { ui: UiHandlers; metricsProxy: Handler } {
  const ui = config.ui ?? { ...DEFAULT_UI_CONFIG, enabled: config.uiEnabled };
  const served = uiServed(ui);
  const log = logger.child({ '@module': 'agent.http.uiserver' });
  return {
    ui: uiHandlers({
      served, dir: ui.dir, contentPath: ui.contentPath, logger: log,
      settings: () => ({
        contentPath: ui.contentPath, aclsEnabled: config.acl.enabled, datacenter: config.datacenter,
        primaryDatacenter: config.primaryDatacenter, peeringEnabled: peeringOn(config), metricsProvider: ui.metricsProvider,
        metricsProviderFiles: ui.metricsProviderFiles, metricsProviderOptionsJson: ui.metricsProviderOptionsJson,
        metricsProxyEnabled: ui.metricsProxy.baseUrl !== '', dashboardUrlTemplates: ui.dashboardUrlTemplates,
      }),
    }),
    metricsProxy: metricsProxyHandler({ uiServed: served, proxy: ui.metricsProxy, cfg: reqCfg, logger }),
  };
}
