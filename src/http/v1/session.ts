// /v1/session/*: Consul's session HTTP handlers, with its body fix-ups (LockDelay as a
// duration string or a number where small numbers mean seconds; an explicit checks list
// replaces the default serfHealth).
import type { SessionEndpoint, SessionCreate } from '../../endpoint/session.ts';
import { BadRequestError } from '../../errors.ts';
import { goDurationError, parseGoDuration } from '../../duration.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { queryOptions, checkDatacenter, authzOf, type HttpRequest, type RequestConfig } from '../request.ts';
import { bodyEnt, requestEnt } from '../tenancy.ts';


const FIELDS = ['Name', 'Node', 'LockDelay', 'Behavior', 'TTL', 'Checks', 'NodeChecks', 'ServiceChecks', 'Namespace', 'Partition', 'ID'] as const;

/** Consul's lockDelayMinThreshold: numbers below 1000 (ns) are taken as seconds. */
const LOCK_DELAY_MIN_THRESHOLD_NS = 1000;

function lockDelayNs(v: unknown): number {
  let ns: number;
  if (typeof v === 'string') {
    const ms = parseGoDuration(v);
    if (ms === null) throw new BadRequestError(`Request decode failed: ${goDurationError(v)}`);
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

/** A decoded session/create body, with the tenant fields the body names (they win over ?ns). */
export type SessionCreateBody = SessionCreate & { tenancy?: { namespace?: string; partition?: string } };

/** Decodes a session/create body onto Consul's defaults. */
export function decodeSessionCreate(body: Buffer, nodeName: string): SessionCreateBody {
  const req: SessionCreateBody = {
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
  const ns = typeof b.Namespace === 'string' ? b.Namespace : '';
  const ap = typeof b.Partition === 'string' ? b.Partition : '';
  if (ns || ap) req.tenancy = { namespace: ns, partition: ap };
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
      const authz = authzOf(req, cfg);
      const body = decodeSessionCreate(await req.body(), cfg.nodeName);
      const { tenancy, ...create } = body;
      const ent = requestEnt(req, cfg, 'namespace-no-wildcard', authz, tenancy && bodyEnt(tenancy));
      return { body: { ID: await sessions.create(create, authz, ent) } };
    },
    async destroy(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const authz = authzOf(req, cfg);
      const ent = requestEnt(req, cfg, 'namespace-no-wildcard', authz);
      await sessions.destroy(id(req), authz, ent);
      return { body: true };
    },
    async renew(req: HttpRequest): Promise<HttpResult> {
      const opts = queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' });
      const sid = id(req);
      const out = await sessions.renew(sid, opts.authz, opts.ent);
      if (!out) return { status: 404, raw: `Session id '${sid}' not found`, contentType: 'text/plain; charset=utf-8' };
      return { body: out };
    },
    async info(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await sessions.info(id(req), queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' }));
      return { body: value, meta };
    },
    async node(req: HttpRequest): Promise<HttpResult> {
      if (!req.params.rest) throw new BadRequestError('Missing node name');
      const { value, meta } = await sessions.node(req.params.rest, queryOptions(req, cfg, { tenancy: 'namespace' }));
      return { body: value, meta };
    },
    async list(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await sessions.list(queryOptions(req, cfg, { tenancy: 'namespace' }));
      return { body: value, meta };
    },
  };
}
