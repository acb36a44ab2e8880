// Structured logging: one pino logger per agent, named children per subsystem (`@module`).
// JSON lines use hclog's field names under -log-json; otherwise an hclog-style text line.
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

/** The logger type passed through deps. */
export type Logger = PinoLogger;

/** Logger options from the agent config. */
export interface LogOptions {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  json: boolean;
  /** Where lines go (default stdout, as Consul). */
  write?: (line: string) => void;
  /** Fan-out for /v1/agent/monitor. */
  hub?: LogHub;
  /** log_sublevels: the level of a subsystem's loggers (`@module` and the modules under it, e.g. `agent.http`). */
  sublevels?: Record<string, LogOptions['level']>;
}

const LEVEL_RANK: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** Live log subscribers (Consul's monitor sinks): each gets lines at or above its level. */
export class LogHub {
  #subs = new Set<{ rank: number; json: boolean; write: (line: string) => void }>();

  /** Subscribes; returns the unsubscribe function. */
  subscribe(level: string, json: boolean, write: (line: string) => void): () => void {
    const sub = { rank: LEVEL_RANK[level] ?? LEVEL_RANK.info, json, write };
    this.#subs.add(sub);
    return () => this.#subs.delete(sub);
  }

  /** Delivers one pino JSON line to interested subscribers. */
  publish(line: string): void {
    if (this.#subs.size === 0) return;
    const level = /"@level":"(\w+)"/.exec(line)?.[1] ?? 'info';
    const rank = LEVEL_RANK[level] ?? 30;
    for (const s of this.#subs) if (rank >= s.rank) s.write(s.json ? line : hclogText(line));
  }

  /** Number of subscribers. */
  get size(): number {
    return this.#subs.size;
  }
}

const TEXT_LEVEL: Record<string, string> = {
  trace: '[TRACE]', debug: '[DEBUG]', info: '[INFO] ', warn: '[WARN] ', error: '[ERROR]', fatal: '[ERROR]',
};

/** Renders one pino JSON line the way hclog prints text. */
export function hclogText(line: string): string {
  const rec = JSON.parse(line) as Record<string, unknown>;
  const { '@timestamp': ts, '@level': level, '@module': mod, '@message': msg, ...fields } = rec;
  const parts = Object.entries(fields).map(([k, v]) => {
    const val = v instanceof Object ? JSON.stringify(v) : String(v);
    return `${k}=${/\s/.test(val) ? JSON.stringify(val) : val}`;
  });
  const head = `${String(ts)} ${TEXT_LEVEL[String(level)] ?? String(level)} ${mod ? `${String(mod)}: ` : ''}${String(msg ?? '')}`;
  return (parts.length ? `${head}: ${parts.join(' ')}` : head) + '\n';
}

// Every field that can carry a secret: token fields at the top level and one level down, and the
// token-bearing request headers wherever a request or its headers are logged.
const SECRET_FIELDS = ['token', 'Token', 'SecretID', 'BearerToken', 'secret', 'BootstrapSecret'];
const SECRET_HEADERS = ['headers["x-consul-token"]', 'headers.authorization', 'headers.cookie'];
/** The redacted log paths (pino syntax). */
export const REDACTED_PATHS = [
  ...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_HEADERS, ...SECRET_HEADERS.map((h) => `*.${h}`),
];

/** Creates the agent's root logger. Secrets under common token fields and headers are redacted. */
export function createLogger(opts: LogOptions): Logger {
  const write = opts.write ?? ((s: string) => process.stdout.write(s));
  const dest: DestinationStream = {
    write: (line: string) => {
      write(opts.json ? line : hclogText(line));
      opts.hub?.publish(line);
    },
  };
  return pino({
    level: opts.level,
    base: null,
    messageKey: '@message',
    errorKey: 'error',
    timestamp: () => `,"@timestamp":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ '@level': label }) },
    redact: { paths: REDACTED_PATHS, censor: '<hidden>' },
    // Only with log_sublevels: a child's level is then its own, so a reloaded log_level leaves it.
    ...(opts.sublevels && Object.keys(opts.sublevels).length > 0 ? { onChild: sublevelHook(opts.sublevels) } : {}),
  }, dest);
}

/**
 * Consul's SubloggerHook: the longest log_sublevels key that prefixes a child's `@module` sets its
 * level, if the match ends at a name boundary (`agent.peering` covers `agent.peering.grpc`, not
 * `agent.peering-syncer`, and then no shorter key is tried either).
 */
export function sublevelHook(sublevels: Record<string, LogOptions['level']>): (child: Logger) => void {
  const keys = Object.keys(sublevels).sort((a, b) => b.length - a.length);
  return (child) => {
    const mod = child.bindings()['@module'];
    if (typeof mod !== 'string') return;
    const key = keys.find((k) => mod.startsWith(k));
    if (key !== undefined && (key.length === mod.length || mod[key.length] === '.')) child.level = sublevels[key];
  };
}

/**
 * Applies a reloaded log_level (Consul's reload sets its logger's level): children made without a
 * level of their own follow the root. A silenced logger (tests, benchmarks) stays silent.
 */
export function reloadLogLevel(logger: Logger, level: LogOptions['level']): void {
  if (logger.level !== 'silent' && logger.level !== level) logger.level = level;
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
