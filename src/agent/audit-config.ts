// The agent's `audit` block (Consul Enterprise's audit logging): enabled, and named file sinks
// with Consul's only accepted type, format and delivery guarantee, the file mode (octal, default
// 0600) and rotation by size, age and kept-file count. Mistakes are configuration errors.
import { createRequire } from 'node:module';
import { durationSetting } from '../duration.ts';
import { ConfigError } from './config/error.ts';
import type { AuditLog, agentAuditLog } from './audit-log.ts';

const require = createRequire(import.meta.url);
type AuditLogDepsArgs = Parameters<typeof agentAuditLog> extends [unknown, ...infer R] ? R : never;

/**
 * The agent's audit log when its `audit` block enables one, else null; the log and its file sinks
 * load only then, not at every agent start (issue #9).
 */
export function configuredAuditLog(raw: unknown, ...deps: AuditLogDepsArgs): AuditLog | null {
  const settings = auditSettings(raw);
  return settings && (require('./audit-log.ts') as typeof import('./audit-log.ts')).agentAuditLog(settings, ...deps);
}

/** One audit sink, ready to open. */
export interface AuditSinkSettings {
  name: string;
  /** The file, or /dev/stdout, /dev/stderr or /dev/null. */
  path: string;
  /** Permission bits of the files written (0600 unless `mode` says otherwise). */
  mode: number;
  /** Bytes after which the file is rotated (0: never). */
  rotateBytes: number;
  /** Milliseconds after which the file is rotated (0: never). */
  rotateDurationMs: number;
  /** Rotated files kept (0: all). */
  rotateMaxFiles: number;
}

/** The audit settings; null when audit logging is off. */
export interface AuditSettings {
  sinks: AuditSinkSettings[];
}

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {});

/** The one value Consul accepts for a sink field (its default when left out). */
function only(sink: string, field: string, value: unknown, accepted: string): void {
  if (value === undefined || value === '' || value === accepted) return;
  throw new ConfigError(`audit sink ${JSON.stringify(sink)}: invalid ${field} ${JSON.stringify(value)}: only ${JSON.stringify(accepted)} is supported`);
}

function sinkSettings(name: string, raw: Record<string, unknown>): AuditSinkSettings {
  only(name, 'type', raw.type, 'file');
  only(name, 'format', raw.format, 'json');
  only(name, 'delivery_guarantee', raw.delivery_guarantee, 'best-effort');
  const path = typeof raw.path === 'string' ? raw.path : '';
  if (path === '') throw new ConfigError(`audit sink ${JSON.stringify(name)}: path is required`);
  let mode = 0o600;
  if (raw.mode !== undefined && raw.mode !== '') {
    const text = String(raw.mode);
    if (!/^[0-7]{1,4}$/.test(text)) throw new ConfigError(`audit sink ${JSON.stringify(name)}: invalid mode ${JSON.stringify(raw.mode)}: an octal file mode such as "0600"`);
    mode = parseInt(text, 8);
  }
  const int = (v: unknown) => (typeof v === 'number' && v > 0 ? Math.floor(v) : 0);
  return {
    name, path, mode, rotateBytes: int(raw.rotate_bytes), rotateDurationMs: Math.max(0, durationSetting(raw.rotate_duration, 0)),
    rotateMaxFiles: int(raw.rotate_max_files),
  };
}

/** Reads and checks the `audit` block; null when it is absent or not enabled. */
export function auditSettings(raw: unknown): AuditSettings | null {
  const audit = obj(raw);
  if (audit.enabled !== true) return null;
  const sinks = Object.entries(obj(audit.sink)).map(([name, s]) => sinkSettings(String(obj(s).name ?? name), obj(s)));
  return { sinks };
}
