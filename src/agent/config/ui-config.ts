// The ui_config block (Consul's UIConfig): whether the web UI is served, from which directory and
// under which path, and the metrics settings the UI reads; validated in the words of Consul's
// builder (content path, metrics provider, proxy base URL and allowlist, dashboard templates).
import { ConfigError } from './error.ts';
import type { TreeReader } from './values.ts';
import { validateBasicName } from './validation.ts';

/** One header the metrics proxy adds to what it forwards. */
export interface UiMetricsProxyHeader {
  name: string;
  value: string;
}

/** The runtime ui_config. */
export interface UiConfig {
  enabled: boolean;
  /** A directory holding a Consul UI build ('' when none). */
  dir: string;
  /** Where the UI is served, always with a leading and trailing slash (default `/ui/`). */
  contentPath: string;
  metricsProvider: string;
  metricsProviderFiles: string[];
  metricsProviderOptionsJson: string;
  metricsProxy: { baseUrl: string; addHeaders: UiMetricsProxyHeader[]; pathAllowlist: string[] };
  dashboardUrlTemplates: Record<string, string>;
}

/** The ui_config of an agent built without one (in-process agents): UI off, Consul's defaults. */
export const DEFAULT_UI_CONFIG: UiConfig = {
  enabled: false, dir: '', contentPath: '/ui/', metricsProvider: '', metricsProviderFiles: [], metricsProviderOptionsJson: '',
  metricsProxy: { baseUrl: '', addHeaders: [], pathAllowlist: [] }, dashboardUrlTemplates: {},
};

/** Consul's UIPathBuilder: the content path with exactly one slash at each end, `/ui/` when unset. */
export function uiContentPath(raw: string): string {
  if (raw === '') return '/ui/';
  return `/${raw.replace(/^\/+|\/+$/g, '')}/`;
}

/** Whether the agent serves the UI at all (Consul's IsUIEnabled: enabled, or a dir given). */
export function uiServed(ui: UiConfig): boolean {
  return ui.enabled || ui.dir !== '';
}

/** Reads ui_config (the legacy ui, ui_dir and ui_content_path keys were mapped onto it earlier). */
export function readUiConfig(r: TreeReader): UiConfig {
  const headers = r.get('ui_config.metrics_proxy.add_headers');
  const addHeaders = (Array.isArray(headers) ? headers : []).flat().filter((h): h is Record<string, unknown> => h !== null && typeof h === 'object')
    .map((h) => ({ name: typeof h.name === 'string' ? h.name : '', value: typeof h.value === 'string' ? h.value : '' }));
  return {
    enabled: r.bool('ui_config.enabled'), dir: r.str('ui_config.dir'), contentPath: uiContentPath(r.str('ui_config.content_path')),
    metricsProvider: r.str('ui_config.metrics_provider'), metricsProviderFiles: r.strings('ui_config.metrics_provider_files'),
    metricsProviderOptionsJson: r.str('ui_config.metrics_provider_options_json'),
    metricsProxy: { baseUrl: r.str('ui_config.metrics_proxy.base_url'), addHeaders, pathAllowlist: r.strings('ui_config.metrics_proxy.path_allowlist') },
    dashboardUrlTemplates: r.stringMap('ui_config.dashboard_url_templates'),
  };
}

const CONTENT_PATH = /^[A-Za-z0-9/_-]+$/;
const VERSION_PATH = /^\/v\d+\/$/;

/** Go's url.Parse scheme, lower-cased ('' when the string has none or fails to parse). */
function scheme(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  return m && !/[\x00-\x1f\x7f ]/.test(url) ? m[1].toLowerCase() : '';
}

const httpUrl = (u: string): boolean => ['http', 'https'].includes(scheme(u));

/** Consul's validateAbsoluteURLPath: starts with `/`, no scheme, host, query, fragment or escapes. */
function absolutePath(p: string): boolean {
  return p.startsWith('/') && !p.startsWith('//') && !/[?#%]/.test(p) && !/[\x00-\x20\x7f]/.test(p);
}

/** Consul's checks of the UI settings, in its order and words. */
export function validateUiConfig(ui: UiConfig): void {
  if (!CONTENT_PATH.test(ui.contentPath)) {
    throw new ConfigError(`ui-content-path can only contain alphanumeric, -, _, or /. received: ${JSON.stringify(ui.contentPath)}`);
  }
  if (VERSION_PATH.test(ui.contentPath)) throw new ConfigError(`ui-content-path cannot have 'v[0-9]'. received: ${JSON.stringify(ui.contentPath)}`);
  validateBasicName('ui_config.metrics_provider', ui.metricsProvider, true);
  if (ui.metricsProviderOptionsJson !== '' && !jsonObject(ui.metricsProviderOptionsJson)) {
    throw new ConfigError('ui_config.metrics_provider_options_json must be empty or a string containing a valid JSON object. '
      + `received: ${JSON.stringify(ui.metricsProviderOptionsJson)}`);
  }
  const base = ui.metricsProxy.baseUrl;
  if (base !== '' && !httpUrl(base)) {
    throw new ConfigError(`ui_config.metrics_proxy.base_url must be a valid http or https URL. received: ${JSON.stringify(base)}`);
  }
  for (const p of ui.metricsProxy.pathAllowlist) {
    if (!absolutePath(p)) throw new ConfigError(`ui_config.metrics_proxy.path_allowlist: path ${JSON.stringify(p)} is not an absolute path`);
  }
  for (const [k, v] of Object.entries(ui.dashboardUrlTemplates)) {
    validateBasicName('ui_config.dashboard_url_templates key names', k, false);
    // Consul quotes the proxy's base URL here, not the bad value: kept, clients may match it.
    if (!httpUrl(v)) throw new ConfigError(`ui_config.dashboard_url_templates values must be a valid http or https URL. received: ${JSON.stringify(base)}`);
  }
}

function jsonObject(s: string): boolean {
  try {
    const v: unknown = JSON.parse(s);
    // Go unmarshals null into a map without error.
    return v === null || (typeof v === 'object' && !Array.isArray(v));
  } catch {
    return false;
  }
}

/** ui_config as Consul's DebugConfig shows it (header values are never shown, as Consul's `json:"-"`). */
export function uiDebugConfig(ui: UiConfig): Record<string, unknown> {
  return {
    Enabled: ui.enabled, Dir: ui.dir, ContentPath: ui.contentPath, MetricsProvider: ui.metricsProvider,
    MetricsProviderFiles: ui.metricsProviderFiles, MetricsProviderOptionsJSON: ui.metricsProviderOptionsJson,
    MetricsProxy: {
      BaseURL: ui.metricsProxy.baseUrl, AddHeaders: ui.metricsProxy.addHeaders.map((h) => ({ Name: h.name })),
      PathAllowlist: ui.metricsProxy.pathAllowlist,
    },
    DashboardURLTemplates: ui.dashboardUrlTemplates, HCPEnabled: false,
  };
}
