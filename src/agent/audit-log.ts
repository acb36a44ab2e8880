// The agent's audit log (Consul Enterprise's audit logging of HTTP API calls): two events per
// routed request, `OperationStart` before its handler runs and `OperationComplete` with the
// answer's status (and error text), each an eventlogger JSON envelope {created_at, event_type:
// "audit", payload: HTTPEvent} written to every sink. The caller is named by its token's accessor
// ID, description and creation time (no secret is ever written); without ACLs there is no `auth`.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { AuditedRequest, AuditRecorder } from '../http/audit.ts';
import { parseToken, type HttpRequest, type RequestConfig } from '../http/index.ts';
import type { AclIdentity } from '../endpoint/index.ts';
import { ANONYMOUS_TOKEN_DESCRIPTION, ANONYMOUS_TOKEN_ID } from '../acl/index.ts';
import type { AuditSettings } from './audit-config.ts';
import { AuditFileSink } from './audit-sink.ts';

/** The `auth` block of an event: who made the request. */
export interface AuditAuth {
  accessor_id: string;
  description: string;
  create_time: string;
}

/** What the audit log needs from the agent. */
export interface AuditLogDeps {
  settings: AuditSettings;
  clock: Clock;
  logger: Logger;
  /** Who a request's token (or the agent's default token) belongs to; undefined without ACLs or for an unknown token. */
  identify(req: Pick<AuditedRequest, 'query' | 'headers'>): AuditAuth | undefined | Promise<AuditAuth | undefined>;
}

type Stage = 'OperationStart' | 'OperationComplete';

/** The audit log: an AuditRecorder for the HTTP server over the configured sinks. */
export class AuditLog implements AuditRecorder {
  readonly #d: AuditLogDeps;
  readonly #sinks: AuditFileSink[];

  constructor(deps: AuditLogDeps) {
    this.#d = deps;
    // Best-effort delivery: the request goes on whatever happens to its events; a failure is logged.
    this.#sinks = deps.settings.sinks.map((s) => new AuditFileSink(s, deps.clock, (err) => deps.logger.error({ err, sink: s.name }, 'audit log write failed')));
  }

  begin(req: AuditedRequest): (status: number, error?: string) => void {
    const request = {
      operation: req.method, endpoint: req.path, remote_addr: req.remoteAddr,
      user_agent: header(req.headers['user-agent']), host: header(req.headers.host),
    };
    const auth = this.#d.identify(req);
    if (!(auth instanceof Promise)) {
      this.#write('OperationStart', auth, request);
      return (status, error) => this.#write('OperationComplete', auth, request, { status: String(status), ...(error ? { error } : {}) });
    }
    // A client agent may have to ask a server who the token is: the events keep their order.
    const started = auth.catch(() => undefined).then((a) => {
      this.#write('OperationStart', a, request);
      return a;
    });
    return (status, error) => void started.then((a) => this.#write('OperationComplete', a, request, { status: String(status), ...(error ? { error } : {}) }));
  }

  /** Resolves once every event recorded so far is written (or dropped). */
  async flush(): Promise<void> {
    await Promise.all(this.#sinks.map((s) => s.flush()));
  }

  /** Writes what is queued and closes every sink's file. */
  async close(): Promise<void> {
    await Promise.all(this.#sinks.map((s) => s.close()));
  }

  #write(stage: Stage, auth: AuditAuth | undefined, request: Record<string, string>, response?: Record<string, string>): void {
    const now = new Date(this.#d.clock.now()).toISOString();
    const payload = {
      id: randomUUID(), version: '1', type: 'HTTPEvent', timestamp: now, ...(auth ? { auth } : {}), request,
      ...(response ? { response } : {}), stage,
    };
    const line = `${JSON.stringify({ created_at: now, event_type: 'audit', payload })}\n`;
    for (const sink of this.#sinks) sink.write(line);
  }
}

function header(v: string | string[] | undefined): string {
  return Array.isArray(v) ? v.join(', ') : v ?? '';
}

/** A token's identity as an event's `auth` (undefined when ACLs are off: no accessor). */
export function auditAuth(id: AclIdentity | undefined): AuditAuth | undefined {
  if (!id || id.accessorID === '') return undefined;
  const anonymous = id.accessorID === ANONYMOUS_TOKEN_ID;
  return {
    accessor_id: id.accessorID,
    description: id.token?.Description ?? (anonymous ? ANONYMOUS_TOKEN_DESCRIPTION : ''),
    create_time: id.token?.CreateTime ?? '',
  };
}

/**
 * The audit log of an agent whose HTTP requests carry tokens as RequestConfig reads them; `load`
 * (client agents) fetches a token's identity from a server first. Null when audit logging is off.
 */
export function agentAuditLog(
  settings: AuditSettings | null, reqCfg: RequestConfig, clock: Clock, logger: Logger, load?: (secret: string) => Promise<void>,
): AuditLog | null {
  if (!settings) return null;
  const resolve = reqCfg.acl?.resolve;
  const who = (secret: string) => {
    try {
      return auditAuth(resolve?.(secret));
    } catch {
      return undefined; // an unknown token: the request itself is refused and audited as such
    }
  };
  return new AuditLog({
    settings, clock, logger: logger.child({ '@module': 'agent.audit' }),
    identify: (req) => {
      if (!resolve) return undefined;
      // parseToken reads only the query and the headers.
      const secret = parseToken(req as HttpRequest, reqCfg);
      return load ? load(secret).then(() => who(secret), () => undefined) : who(secret);
    },
  });
}
