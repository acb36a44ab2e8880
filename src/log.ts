// Structured logging: one pino logger per agent, named children per subsystem (`@module`).
// JSON lines use hclog's field names under -log-json; otherwise an hclog-style text line.
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

/** The logger type passed through deps. */
export type Logger = PinoLogger;

/** Logger options from the agent config. */
export interface LogOptions {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  json: boolean;
  /** Where lines go (default stderr... Consul logs to stdout). */
  write?: (line: string) => void;
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

/** Creates the agent's root logger. Secrets under common token fields are redacted. */
export function createLogger(opts: LogOptions): Logger {
  const write = opts.write ?? ((s: string) => process.stdout.write(s));
  const dest: DestinationStream = { write: (line: string) => write(opts.json ? line : hclogText(line)) };
  return pino({
    level: opts.level,
    base: null,
    messageKey: '@message',
    errorKey: 'error',
    timestamp: () => `,"@timestamp":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ '@level': label }) },
    redact: { paths: ['token', '*.token', 'SecretID', '*.SecretID'], censor: '<hidden>' },
  }, dest);
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
