// Script checks (Consul's CheckMonitor): run `args` directly (or a legacy `script` through the
// shell); exit 0 passing, 1 warning, anything else critical; killed with its children on timeout.
import { capturedOutput, goDuration } from './output.ts';
import type { CommandResult, CommandRunner } from './command.ts';
import type { CheckStatus, CheckType } from './types.ts';
import { scriptArgs } from './types.ts';

/** One probe's outcome before the status handler sees it. */
export interface ProbeResult {
  status: CheckStatus;
  output: string;
}

/** Consul's default script timeout. */
export const DEFAULT_SCRIPT_TIMEOUT_MS = 30_000;

/** The shell for `script`/docker `shell` forms: the definition's, else $SHELL, else /bin/sh. */
export function shellFor(def: CheckType): string {
  return def.Shell || process.env.SHELL || '/bin/sh';
}

/** Maps a finished command to a check result with Consul's texts (shared with docker checks). */
export function commandResultStatus(r: CommandResult, timeoutMs: number): ProbeResult {
  if (r.startError !== undefined) return { status: 'critical', output: r.startError };
  const out = capturedOutput(r.output);
  if (r.timedOut) {
    const msg = `Timed out (${goDuration(timeoutMs)}) running check`;
    return { status: 'critical', output: out.length > 0 ? `${msg}\n\n${out}` : msg };
  }
  if (r.exitCode === 0) return { status: 'passing', output: out };
  if (r.exitCode === 1) return { status: 'warning', output: out };
  return { status: 'critical', output: out };
}

/** What a script probe needs. */
export interface ScriptProbeDeps {
  runCommand: CommandRunner;
  maxOutput: number;
}

/** Builds the probe for a script check. */
export function scriptProbe(def: CheckType, deps: ScriptProbeDeps): (signal: AbortSignal) => Promise<ProbeResult> {
  const args = scriptArgs(def);
  const [file, ...rest] = args.length > 0 ? args : [shellFor(def), '-c', def.Script ?? ''];
  const timeoutMs = (def.Timeout ?? 0) > 0 ? def.Timeout! : DEFAULT_SCRIPT_TIMEOUT_MS;
  return async (signal) => {
    const r = await deps.runCommand(file, rest, { timeoutMs, maxOutput: deps.maxOutput, signal });
    return commandResultStatus(r, timeoutMs);
  };
}
