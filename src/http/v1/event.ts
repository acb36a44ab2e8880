// /v1/event/fire/:name and /v1/event/list: fire a user event and list recent ones, blocking
// the way Consul does for events (the index is a hash of the last event ID, so a request
// blocks only while the last event is still the one it has seen).
import { BadRequestError } from '../../errors.ts';
import { eventIndex, type EventBuffer } from '../../agent/events.ts';
import { parseGoDuration } from '../../duration.ts';
import type { HttpResult } from '../router.ts';
import { authzOf, checkDatacenter, type HttpRequest, type RequestConfig } from '../request.ts';
import { allowed, authorize, filterAllowed } from '../../endpoint/index.ts';

/** Handlers for the event routes. */
export function eventHandlers(events: EventBuffer, cfg: RequestConfig & { maxQueryTime: number }) {
  return {
    async fire(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      if (!req.params.rest) throw new BadRequestError('Missing name');
      authorize(authzOf(req, cfg), 'eventWrite', req.params.rest);
      const body = await req.body();
      const q = (k: string) => req.query.get(k) || undefined;
      return { body: events.fire(req.params.rest, body.length ? body : null, { node: q('node'), service: q('service'), tag: q('tag') }) };
    },
    async list(req: HttpRequest): Promise<HttpResult> {
      const wait = req.query.get('wait');
      let waitMs = cfg.maxQueryTime;
      if (wait) {
        const ms = parseGoDuration(wait);
        if (ms === null) throw new BadRequestError('Invalid wait time');
        waitMs = Math.min(ms || cfg.maxQueryTime, cfg.maxQueryTime);
      }
      const min = req.query.get('index');
      if (min && !/^\d+$/.test(min)) throw new BadRequestError('Invalid index');
      const name = req.query.get('name') || undefined;
      const id = authzOf(req, cfg);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const list = events.list(name);
        const index = list.length ? eventIndex(list[list.length - 1].ID) : '1';
        const left = deadline - Date.now();
        if (!min || min === '0' || index !== min || left <= 0 || req.signal.aborted) {
          const { items, filtered } = filterAllowed(id, list, (e) => allowed(id, 'eventRead', e.Name));
          const acl: Record<string, string> = filtered && id?.tokenGiven ? { 'X-Consul-Results-Filtered-By-ACLs': 'true' } : {};
          return { body: items, headers: { 'X-Consul-Index': index, ...acl } };
        }
        await events.wait(left, req.signal);
      }
    },
  };
}
