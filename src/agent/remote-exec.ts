// Remote exec on the agent (Consul's agent/remote_exec.go): a `_rexec` user event names a KV
// job under <prefix>/<session>/job; the agent acks, runs the command or script, uploads its
// output in 4 KiB chunks (or empty heartbeats) and finally its exit code, every key locked by
// the session. Off unless disable_remote_exec is false.

import { createRequire } from 'node:module';
import type { Logger } from '../log.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { UserEvent } from './events.ts';

/** The user event name remote exec travels under. */
export const REMOTE_EXEC_EVENT = '_rexec';

// The job runner (remote-exec-run.ts) loads on the first event an enabled agent runs: remote exec
// is off by default, and then no agent start loads it (issue #9).
const require = createRequire(import.meta.url);

/** One request to the agent's own HTTP API with its agent token (Consul uses RPCs under that token). */
export type AgentApiCall = (method: string, url: string, body?: Buffer) => Promise<{ status: number; body: Buffer }>;

/** disable_remote_exec, true unless the configuration says false (Consul's default). */
export function remoteExecDisabled(config: Pick<RuntimeConfig, 'raw'>): boolean {
  return config.raw.disable_remote_exec !== false;
}

/** Calls the agent's own HTTP API in-process, with the token `token()` gives at call time; allow_write_http_from does not apply (Consul's are RPCs). */
export function agentApiCall(
  http: { handle(req: { method: string; url: string; headers?: Record<string, string>; body?: Buffer; internal?: boolean }): Promise<{ status: number; body: Buffer }> },
  token: () => string,
): AgentApiCall {
  return async (method, url, body) => {
    const t = token();
    const res = await http.handle({ method, url, headers: t ? { 'x-consul-token': t } : {}, body, internal: true });
    return { status: res.status, body: res.body };
  };
}

/** What remote exec needs from the agent. */
export interface RemoteExecDeps {
  nodeName: string;
  api: AgentApiCall;
  logger: Logger;
}

/** The handler for `_rexec` events; `disabled` (Consul's default) only logs that it ignored them. */
export function remoteExecHandler(deps: RemoteExecDeps, disabled: boolean): (ev: UserEvent) => void {
  const log = deps.logger;
  return (ev) => {
    if (disabled) {
      log.info({ event_name: ev.Name, event_id: ev.ID }, 'ignoring remote exec event, disabled.');
      return;
    }
    const run = () => (require('./remote-exec-run.ts') as typeof import('./remote-exec-run.ts')).runRemoteExec(deps, ev);
    void Promise.resolve().then(run).catch((err: Error) => log.error({ error: err.message }, 'remote exec failed'));
  };
}
