// /v1/status/*: the leader and the voting peers, as `ip:serverport` strings.
import type { Leadership } from '../../endpoint/index.ts';
import type { HttpResult } from '../router.ts';
import { checkDatacenter, type HttpRequest, type RequestConfig } from '../request.ts';

/** Handlers for the status routes. */
export function statusHandlers(leadership: Leadership, cfg: RequestConfig) {
  return {
    async leader(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      return { body: leadership.leaderAddr() };
    },
    async peers(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      return { body: leadership.peers() };
    },
  };
}
