// /v1/agent/reload, leave and token/:type: config reload, graceful leave and runtime ACL
// tokens (membership routes are in agent-members.ts).
import { createRequire } from 'node:module';
import type { RuntimeConfig } from '../../agent/config/runtime.ts';
import { BadRequestError, NotFoundError } from '../../errors.ts';
import { tokenKind, type TokenStore } from '../../agent/local/index.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import type { HttpRequest } from '../request.ts';

// The body field tables load with a token update's body, not at start (issue #9).
const require = createRequire(import.meta.url);

/** What the control handlers call. */
export interface AgentControlDeps {
  config: RuntimeConfig;
  tokens: TokenStore;
  /** Re-reads the config files and re-registers their services and checks. */
  reload(): Promise<void>;
  /** Leaves the cluster gracefully, then shuts the agent down. */
  leave(): Promise<void>;
  /** Called after a token changed (Consul triggers a full anti-entropy sync). */
  tokenChanged(): void;
}

/** Handlers for the agent control routes. */
export function agentControlHandlers(deps: AgentControlDeps) {
  return {
    async reload(): Promise<HttpResult> {
      await deps.reload();
      return {};
    },
    async leave(): Promise<HttpResult> {
      await deps.leave();
      return {};
    },
    async token(req: HttpRequest): Promise<HttpResult> {
      if (!deps.config.acl.enabled) return { status: 401, raw: 'ACL support disabled' };
      const raw = parseJSON(await req.body());
      if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
        throw new BadRequestError('Request decode failed: json: cannot unmarshal into Go value of type api.AgentToken');
      }
      refuseUnknownFields(raw, (require('../request-fields.ts') as typeof import('../request-fields.ts')).AGENT_TOKEN);
      const body = canonical(raw ?? {}, ['Token']);
      const target = req.params.rest;
      const kind = tokenKind(target);
      if (!kind) throw new NotFoundError(`Token ${JSON.stringify(target)} is unknown`);
      const changed = deps.tokens.set(kind, typeof body.Token === 'string' ? body.Token : '');
      if (changed && (kind === 'default' || kind === 'agent')) deps.tokenChanged();
      return {};
    },
  };
}
