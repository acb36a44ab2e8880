// Docker checks: the script semantics run inside a container through `docker exec` (the
// docker CLI honours $DOCKER_HOST as Consul's API client does); the command runner is injectable.
import type { CommandRunner } from './command.ts';
import { capturedOutput } from './output.ts';
import { commandResultStatus, DEFAULT_SCRIPT_TIMEOUT_MS, shellFor, type ProbeResult } from './script.ts';
import type { CheckType } from './types.ts';
import { scriptArgs } from './types.ts';

/** What a docker probe needs. */
export interface DockerProbeDeps {
  runCommand: CommandRunner;
  maxOutput: number;
}

/** Builds the probe for a docker check: `docker exec <container> <args>` or `<shell> -c <script>`. */
export function dockerProbe(def: CheckType, deps: DockerProbeDeps): (signal: AbortSignal) => Promise<ProbeResult> {
  const args = scriptArgs(def);
  const cmd = args.length > 0 ? args : [shellFor(def), '-c', def.Script ?? ''];
  const container = def.DockerContainerID ?? '';
  const timeoutMs = (def.Timeout ?? 0) > 0 ? def.Timeout! : DEFAULT_SCRIPT_TIMEOUT_MS;
  return async (signal) => {
    const r = await deps.runCommand('docker', ['exec', container, ...cmd], { timeoutMs, maxOutput: deps.maxOutput, signal });
    const out = capturedOutput(r.output);
    // The CLI exits 1 for daemon errors (unknown or stopped container); Consul reports those critical.
    if (r.exitCode === 1 && out.startsWith('Error response from daemon:')) return { status: 'critical', output: out.trimEnd() };
    return commandResultStatus(r, timeoutMs);
  };
}
