// /v1/session/*: Consul's session HTTP handlers, with its body fix-ups (LockDelay as a
// duration string or a number where small numbers mean seconds; an explicit checks list
// replaces the default serfHealth).
import type { SessionEndpoint, SessionCreate } from '../../endpoint/session.ts';
import { BadRequestError } from '../../errors.ts';
import { parseGoDuration } from '../../duration.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { queryOptions, checkDatacenter, authzOf, type HttpRequest, type RequestConfig } from '../request.ts';

const FIELDS = ['Name', 'Node', 'LockDelay', 'Behavior', 'TTL', 'Checks', 'NodeChecks', 'ServiceChecks', 'Namespace', 'ID'] as const;

/** Consul's lockDelayMinThreshold: numbers below 1000 (ns) are taken as seconds. */
const LOCK_DELAY_MIN_THRESHOLD_NS = 1000;

function lockDelayNs(v: unknown): number {
  let ns: number;
  if (typeof v === 'string') {
    const ms = parseGoDuration(v);
    if (ms === null) throw new BadRequestError(`Request decode failed: time: invalid duration ${JSON.stringify(v)}`);
    ns = Math.round(ms * 1e6);
  } else if (typeof v === 'number') ns = Math.trunc(v);
  else throw new BadRequestError('Request decode failed: LockDelay must be a duration string or a number');
  return ns < LOCK_DELAY_MIN_THRESHOLD_NS ? ns * 1e9 : ns;
}

function stringList(v: unknown, field: string): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new BadRequestError(`Request decode failed: ${field} must be a list of strings`);
  return v as string[];
}

/** Decodes a session/create body onto Consul's defaults. */
export function decodeSessionCreate(body: Buffer, nodeName: string): SessionCreate {
  const req: SessionCreate = {
    Name: '', Node: nodeName, LockDelay: 15e9, Behavior: 'release', TTL: '', NodeChecks: ['serfHealth'], ServiceChecks: [],
  };
  const raw = parseJSON(body);
  if (raw === undefined) return req;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequestError('Request decode failed: body must be a JSON object');
  const b = canonical(raw, FIELDS);
  if (typeof b.Name === 'string') req.Name = b.Name;
  if (typeof b.Node === 'string' && b.Node) req.Node = b.Node;
  if (b.LockDelay !== undefined) req.LockDelay = lockDelayNs(b.LockDelay);
  if (typeof b.Behavior === 'string') req.Behavior = b.Behavior;
  if (typeof b.TTL === 'string') req.TTL = b.TTL;
  // Any explicit check list (even empty) replaces the default serfHealth check.
  if ('Checks' in b || 'NodeChecks' in b) {
    req.NodeChecks = [...new Set([...stringList(b.Checks, 'Checks'), ...stringList(b.NodeChecks, 'NodeChecks')])];
  }
  if (Array.isArray(b.ServiceChecks)) {
    req.ServiceChecks = b.ServiceChecks.map((c) => {
      const sc = canonical(c, ['ID', 'Namespace']);
      return { ID: String(sc.ID ?? ''), Namespace: typeof sc.Namespace === 'string' ? sc.Namespace : '' };
    });
  }
  return req;
}

/** Handlers for the session routes. */
export function sessionHandlers(sessions: SessionEndpoint, cfg: RequestConfig & { nodeName: string }) {
  const id = (req: HttpRequest): string => {
    if (!req.params.rest) throw new BadRequestError('Missing session');
    return req.params.rest;
  };
  return {
    async create(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const body = decodeSessionCreate(await req.body(), cfg.nodeName);
      return { body: { ID: await sessions.create(body, authzOf(req, cfg)) } };
    },
    async destroy(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      await sessions.destroy(id(req), authzOf(req, cfg));
      return { body: true };
    },
    async renew(req: HttpRequest): Promise<HttpResult> {
      const opts = queryOptions(req, cfg);
      const sid = id(req);
      const out = await sessions.renew(sid, opts.authz);
      if (!out) return { status: 404, raw: `Session id '${sid}' not found`, contentType: 'text/plain; charset=utf-8' };
      return { body: out };
    },
    async info(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await sessions.info(id(req), queryOptions(req, cfg));
      return { body: value, meta };
    },
    async node(req: HttpRequest): Promise<HttpResult> {
      if (!req.params.rest) throw new BadRequestError('Missing node name');
      const { value, meta } = await sessions.node(req.params.rest, queryOptions(req, cfg));
      return { body: value, meta };
    },
    async list(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await sessions.list(queryOptions(req, cfg));
      return { body: value, meta };
    },
  };
}
