// The part of Envoy's admin interface that scripts and health checks probe, served for the
// built-in data plane by `proconsul connect envoy -admin-bind`: /ready, /stats,
// /stats/prometheus and POST /quitquitquit. Every other path is Envoy's 404.
import { nodeHttp } from '../../node-http.ts';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../log.ts';
import { listen } from './listener.ts';

/** Envoy's server states (admin.v3.ServerInfo.State), as /ready prints them. */
export type EnvoyState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';

/** One stat: a dotted Envoy name, its kind and value. */
export interface EnvoyStat {
  name: string;
  type: 'counter' | 'gauge';
  value: number;
}

/** What the admin endpoint reads and calls. */
export interface EnvoyAdminDeps {
  state(): EnvoyState;
  stats(): EnvoyStat[];
  /** Called once a POST /quitquitquit has been answered. */
  quit(): void;
  log: Logger;
  /** Only these paths (Envoy's ready listener serves /ready alone); all when absent. */
  paths?: string[];
}

/** A bound admin endpoint. */
export interface EnvoyAdmin {
  /** `host:port` as bound. */
  readonly address: string;
  close(): Promise<void>;
}

/** The paths served, as Envoy's /help and 404 list them. */
const HELP: Record<string, string> = {
  '/quitquitquit': 'exit the server',
  '/ready': 'print server state, return 200 if LIVE, otherwise return 503',
  '/stats': 'print server stats (filter=<regex>, format=text|json|prometheus)',
  '/stats/prometheus': 'print server stats in prometheus format',
};
const MUTATING = new Set(['/quitquitquit']);

function helpText(): string {
  return `admin commands are:\n${Object.entries(HELP).map(([p, d]) => `  ${p}: ${d}\n`).join('')}`;
}

/** Envoy's /stats text: `name: value` lines sorted by name. */
export function statsText(stats: EnvoyStat[]): string {
  return [...stats].sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => `${s.name}: ${s.value}\n`).join('');
}

/** Envoy's /stats/prometheus: names prefixed `envoy_` with every non-alphanumeric made `_`, each with its TYPE line. */
export function statsPrometheus(stats: EnvoyStat[]): string {
  return [...stats]
    .map((s) => ({ ...s, name: `envoy_${s.name.replace(/[^a-zA-Z0-9_]/g, '_')}` }))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((s) => `# TYPE ${s.name} ${s.type}\n${s.name} ${s.value}\n`)
    .join('');
}

const STATE_GAUGE: Record<EnvoyState, number> = { LIVE: 0, DRAINING: 1, PRE_INITIALIZING: 2, INITIALIZING: 3 };

/** What the stats are computed from. */
export interface ProxyStatsSource {
  state: EnvoyState;
  /** Milliseconds the process has served. */
  uptimeMs: number;
  /** Listeners bound (the public one and each upstream's). */
  listeners: number;
  /** The leaf certificate's expiry (ISO time) and now, in epoch milliseconds; absent before the leaf is read. */
  leafValidBefore?: string;
  nowMs: number;
}

/** The few stats the built-in proxy can report honestly, under Envoy's names. */
export function proxyStats(s: ProxyStatsSource): EnvoyStat[] {
  const stats: EnvoyStat[] = [
    { name: 'server.live', type: 'gauge', value: s.state === 'LIVE' ? 1 : 0 },
    { name: 'server.state', type: 'gauge', value: STATE_GAUGE[s.state] },
    { name: 'server.uptime', type: 'gauge', value: Math.floor(s.uptimeMs / 1000) },
    { name: 'listener_manager.total_listeners_active', type: 'gauge', value: s.listeners },
  ];
  const expiry = s.leafValidBefore ? Date.parse(s.leafValidBefore) : NaN;
  if (!Number.isNaN(expiry)) {
    stats.push({ name: 'server.days_until_first_cert_expiring', type: 'gauge', value: Math.max(0, Math.floor((expiry - s.nowMs) / 86_400_000)) });
  }
  return stats;
}

/** /stats with Envoy's `filter` (a regular expression the name must contain a match of) and `format` (text, json, prometheus). */
function statsAnswer(q: URLSearchParams, all: EnvoyStat[]): { status: number; type: string; body: string } {
  const text = 'text/plain; charset=UTF-8';
  let stats = all;
  const filter = q.get('filter');
  if (filter) {
    let re: RegExp;
    try {
      re = new RegExp(filter);
    } catch {
      return { status: 400, type: text, body: 'Invalid re2 regex' };
    }
    stats = stats.filter((s) => re.test(s.name));
  }
  switch (q.get('format') ?? 'text') {
    case 'text':
      return { status: 200, type: text, body: statsText(stats) };
    case 'prometheus':
      return { status: 200, type: text, body: statsPrometheus(stats) };
    case 'json': {
      const sorted = [...stats].sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => ({ name: s.name, value: s.value }));
      return { status: 200, type: 'application/json', body: JSON.stringify({ stats: sorted }) };
    }
    default:
      return { status: 404, type: text, body: 'usage: /stats?format=(json|prometheus|text)\n' };
  }
}

/** Answers one admin request: status, content type and body. */
export function adminAnswer(method: string, url: string, deps: Pick<EnvoyAdminDeps, 'state' | 'stats' | 'paths'>): { status: number; type: string; body: string } {
  const path = url.split('?')[0];
  const text = 'text/plain; charset=UTF-8';
  if (!(path in HELP) || (deps.paths && !deps.paths.includes(path))) return { status: 404, type: text, body: `invalid path. ${helpText()}` };
  if (MUTATING.has(path) && method !== 'POST') return { status: 405, type: text, body: `Method ${method} not allowed, POST required.` };
  switch (path) {
    case '/ready': {
      const state = deps.state();
      return { status: state === 'LIVE' ? 200 : 503, type: text, body: `${state}\n` };
    }
    case '/stats':
      return statsAnswer(new URLSearchParams(url.slice(path.length + 1)), deps.stats());
    case '/stats/prometheus':
      return { status: 200, type: text, body: statsPrometheus(deps.stats()) };
    default:
      return { status: 200, type: text, body: 'OK\n' };
  }
}

/** Binds the admin endpoint on host:port. */
export async function startEnvoyAdmin(host: string, port: number, deps: EnvoyAdminDeps): Promise<EnvoyAdmin> {
  const server = nodeHttp.createServer((req, res) => {
    const a = adminAnswer(req.method ?? 'GET', req.url ?? '/', deps);
    res.writeHead(a.status, { 'content-type': a.type, 'cache-control': 'no-cache, max-age=0' });
    res.end(a.body, () => {
      if (a.status === 200 && req.url?.split('?')[0] === '/quitquitquit') deps.quit();
    });
  });
  await listen(server, host, port, deps.log);
  const a = server.address() as AddressInfo;
  return {
    address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
