// The catalog target of a client agent: anti-entropy reads this node's entries from a server and
// writes through the catalog endpoints there, over the internal RPC (Consul's client agent
// calling Catalog.Register / Catalog.Deregister / Catalog.NodeServices on a server).
import type { HealthCheck, Locality, NodeService, RegisterRequest } from '../../api/catalog-types.ts';
import { aclNotFoundError, isACLNotFound } from '../../acl/index.ts';
import { InternalError, PermissionDeniedError } from '../../errors.ts';
import { nodeRegistration } from '../../leader/self-register.ts';
import type { RuntimeConfig } from '../config/runtime.ts';
import type { ForwardResponse } from '../forward.ts';
import type { CatalogTarget } from './anti-entropy.ts';

/** Sends one request to some server (failover is the caller's). */
export type ServerCall = (method: string, url: string, token: string, body?: unknown, signal?: AbortSignal) => Promise<ForwardResponse>;

interface NodeView {
  Node: { ID?: string; Address: string; TaggedAddresses?: Record<string, string> | null; Meta?: Record<string, string> | null; Locality?: Locality } | null;
  Services: Record<string, NodeService> | null;
}

// A server's refusal in Consul's words becomes the typed error anti-entropy recognises.
function check(res: ForwardResponse): ForwardResponse {
  if (res.status < 300) return res;
  const text = res.body.toString('utf8').trim();
  if (res.status === 403) throw isACLNotFound(new Error(text)) ? aclNotFoundError() : new PermissionDeniedError(text);
  throw new InternalError(text || `server answered ${res.status}`);
}

function json<T>(res: ForwardResponse): T | null {
  const text = check(res).body.toString('utf8');
  return text ? (JSON.parse(text) as T) : null;
}

function sameRecord(a: Record<string, string> | null | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a![k] === b[k]);
}

/** A CatalogTarget that talks to a server; `agentToken` is used for the node itself. */
export function remoteCatalogTarget(call: ServerCall, config: RuntimeConfig, agentToken: () => string): CatalogTarget {
  const node = encodeURIComponent(config.nodeName);
  const fetchNode = async (): Promise<NodeView | null> => {
    const view = json<NodeView>(await call('GET', `/v1/catalog/node/${node}`, agentToken()));
    return view?.Node ? view : null;
  };
  const want = nodeRegistration(config);
  const current = (have: NodeView['Node'] | undefined): boolean => Boolean(have && have.ID === want.ID && have.Address === want.Address
    && sameRecord(have.TaggedAddresses, want.TaggedAddresses) && sameRecord(have.Meta, want.NodeMeta)
    && sameRecord(have.Locality as Record<string, string> | undefined, (want.Locality ?? {}) as Record<string, string>));
  return {
    // A node whose details drifted (another writer replaced them) reads as absent, so the next
    // sync, change syncs included, registers the node again before its services.
    async nodeServices() {
      const view = await fetchNode();
      return view && current(view.Node) ? new Map(Object.entries(view.Services ?? {})) : undefined;
    },
    async nodeChecks() {
      return json<HealthCheck[]>(await call('GET', `/v1/health/node/${node}`, agentToken())) ?? [];
    },
    async register(req: RegisterRequest, token: string) {
      return json<boolean>(await call('PUT', '/v1/catalog/register', token, req)) === true;
    },
    async deregister(req, token) {
      return json<boolean>(await call('PUT', '/v1/catalog/deregister', token, req)) === true;
    },
    // Consul's syncNodeInfo: register the node only when the catalog's copy differs.
    async syncNode() {
      if (current((await fetchNode())?.Node)) return;
      json<boolean>(await call('PUT', '/v1/catalog/register', agentToken(), want));
    },
  };
}
