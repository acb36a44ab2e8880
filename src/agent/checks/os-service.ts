// OS service checks on systemd: `systemctl is-active <unit>`; active is passing, inactive or
// failed is critical (Consul's ErrOSServiceStatusCritical), any other answer is warning.
import type { CommandRunner } from './command.ts';
import { goDuration } from './output.ts';
import type { ProbeResult } from './script.ts';
import type { CheckType } from './types.ts';

/** Consul's default OS-service check timeout. */
export const DEFAULT_OS_SERVICE_TIMEOUT_MS = 30_000;

const CRITICAL_STATES = new Set(['inactive', 'failed']);

/** Builds the probe for an OS service check. */
export function osServiceProbe(def: CheckType, runCommand: CommandRunner): (signal: AbortSignal) => Promise<ProbeResult> {
  const unit = def.OSService ?? '';
  const timeoutMs = (def.Timeout ?? 0) > 0 ? def.Timeout! : DEFAULT_OS_SERVICE_TIMEOUT_MS;
  return async (signal) => {
    const r = await runCommand('systemctl', ['is-active', unit], { timeoutMs, maxOutput: 1024, signal });
    if (r.timedOut) return { status: 'critical', output: `Timed out (${goDuration(timeoutMs)}) running check` };
    if (r.startError !== undefined) return { status: 'warning', output: r.startError };
    const state = r.output.bytes().toString('utf8').trim().split('\n')[0] ?? '';
    if (r.exitCode === 0 && state === 'active') return { status: 'passing', output: `Service "${unit}" is healthy` };
    if (CRITICAL_STATES.has(state)) return { status: 'critical', output: `service status: ${state} - OS Service unhealthy` };
    return { status: 'warning', output: `service status: ${state || 'unknown'}` };
  };
}
