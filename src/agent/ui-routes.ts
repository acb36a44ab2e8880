// The web UI as an agent serves it, server or client alike: the static UI and index settings
// from ui_config, and the metrics proxy; both are agent-local (the UI reads themselves go to a
// server like every catalog read). Their modules load on the first UI request (issue #9).
import type { Logger } from '../log.ts';
import type { Handler, RequestConfig } from '../http/index.ts';
import { lazyHandlers } from '../http/lazy-handlers.ts';
import type { UiHandlers } from '../http/ui-server.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { DEFAULT_UI_CONFIG, uiServed, type UiConfig } from './config/ui-config.ts';

/** The agent's peering.enabled (Consul's default: true). */
export function peeringOn(config: RuntimeConfig): boolean {
  return (config.raw.peering as { enabled?: unknown } | undefined)?.enabled !== false;
}

const uiOf = (config: RuntimeConfig): UiConfig => config.ui ?? { ...DEFAULT_UI_CONFIG, enabled: config.uiEnabled };

/**
 * The agent's ui_config as it is now. A reload replaces it (the files, the index settings and the
 * metrics proxy follow it, as Consul's ReloadConfig); whether the UI is served and under which
 * path stay as the agent started, as Consul registers those routes once.
 */
export class UiSettings {
  current: UiConfig;

  constructor(config: RuntimeConfig) {
    this.current = uiOf(config);
  }

  /** Takes the ui_config of a reloaded configuration. */
  reload(next: RuntimeConfig): void {
    this.current = uiOf(next);
  }
}

/** The UI handlers and the metrics proxy of one agent. */
export function agentUi(
  config: RuntimeConfig, reqCfg: RequestConfig, logger: Logger, live = new UiSettings(config),
): { ui: UiHandlers; metricsProxy: Handler } {
  const started = live.current;
  const served = uiServed(started);
  const contentPath = started.contentPath;
  const log = logger.child({ '@module': 'agent.http.uiserver' });
  const handlers = lazyHandlers(['index', 'serve', 'bare', 'robots'], async () => (await import('../http/ui-server.ts')).uiHandlers({
    served, dir: () => live.current.dir, contentPath, logger: log,
    settings: () => ({
      contentPath, aclsEnabled: config.acl.enabled, datacenter: config.datacenter,
      primaryDatacenter: config.primaryDatacenter, peeringEnabled: peeringOn(config), metricsProvider: live.current.metricsProvider,
      metricsProviderFiles: live.current.metricsProviderFiles, metricsProviderOptionsJson: live.current.metricsProviderOptionsJson,
      metricsProxyEnabled: live.current.metricsProxy.baseUrl !== '', dashboardUrlTemplates: live.current.dashboardUrlTemplates,
    }),
  }));
  const proxy = lazyHandlers(['metricsProxy'], async () => ({
    metricsProxy: (await import('../http/v1/ui-metrics-proxy.ts')).metricsProxyHandler({ uiServed: served, proxy: () => live.current.metricsProxy, cfg: reqCfg, logger }),
  }));
  return { ui: { contentPath, served, ...handlers }, metricsProxy: proxy.metricsProxy };
}
