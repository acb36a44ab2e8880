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
import { localKey } from './state.ts';

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

/** A record's namespace when it is not the default one ('' otherwise). */
function tenantNamespace(r: { Namespace?: string }): string {
  const ns = (r.Namespace ?? '').toLowerCase();
  return ns === 'default' ? '' : ns;
}

/** A record as the default namespace's reads answer it: without Consul Enterprise's tenancy fields. */
function withoutTenancy<T extends { Namespace?: string; Partition?: string }>(r: T): T {
  const { Namespace: _ns, Partition: _ap, ...rest } = r;
  return rest as T;
}

/** A CatalogTarget that talks to a server; `agentToken` is used for the node itself. */
export function remoteCatalogTarget(call: ServerCall, config: RuntimeConfig, agentToken: () => string): CatalogTarget {
  const node = encodeURIComponent(config.nodeName);
  // An agent in another admin partition reads and writes its node there (a body's Partition, a read's ?partition=).
  const ap = (config.partition ?? '').toLowerCase();
  const partition = ap && ap !== 'default' ? ap : '';
  const q = (sep: '?' | '&'): string => (partition ? `${sep}partition=${encodeURIComponent(partition)}` : '');
  const inPartition = <T extends object>(body: T): T => (partition ? { ...body, Partition: partition } : body);
  const fetchNode = async (): Promise<NodeView | null> => {
    const view = json<NodeView>(await call('GET', `/v1/catalog/node/${node}${q('?')}`, agentToken()));
    return view?.Node ? view : null;
  };
  const want = nodeRegistration(config);
  const current = (have: NodeView['Node'] | undefined): boolean => Boolean(have && have.ID === want.ID && have.Address === want.Address
    && sameRecord(have.TaggedAddresses, want.TaggedAddresses) && sameRecord(have.Meta, want.NodeMeta)
    && sameRecord(have.Locality as Record<string, string> | undefined, (want.Locality ?? {}) as Record<string, string>));
  return {
    // A node whose details drifted (another writer replaced them) reads as absent, so the next
    // sync, change syncs included, registers the node again before its services.
    async nodeServices(_node, namespaced) {
      const view = await fetchNode();
      if (!view || !current(view.Node)) return undefined;
      const out = new Map(Object.entries(view.Services ?? {}));
      if (!namespaced) return out;
      // Every namespace's services (Consul Enterprise's ns=*), the default one's already read.
      const all = json<{ Services: NodeService[] | null }>(await call('GET', `/v1/catalog/node-services/${node}?ns=*${q('&')}`, agentToken()));
      for (const s of all?.Services ?? []) {
        const ns = tenantNamespace(s);
        if (ns) out.set(localKey(s.ID, ns), { ...withoutTenancy(s), Namespace: ns });
      }
      return out;
    },
    async nodeChecks(_node, namespaced) {
      if (!namespaced) return json<HealthCheck[]>(await call('GET', `/v1/health/node/${node}${q('?')}`, agentToken())) ?? [];
      const all = json<HealthCheck[]>(await call('GET', `/v1/health/node/${node}?ns=*${q('&')}`, agentToken())) ?? [];
      return all.map((c) => {
        const ns = tenantNamespace(c);
        return ns ? { ...withoutTenancy(c), Namespace: ns } : withoutTenancy(c);
      });
    },
    async register(req: RegisterRequest, token: string) {
      return json<boolean>(await call('PUT', '/v1/catalog/register', token, inPartition(req))) === true;
    },
    async deregister(req, token) {
      return json<boolean>(await call('PUT', '/v1/catalog/deregister', token, inPartition(req))) === true;
    },
    // Consul's syncNodeInfo: register the node only when the catalog's copy differs.
    async syncNode() {
      if (current((await fetchNode())?.Node)) return;
      json<boolean>(await call('PUT', '/v1/catalog/register', agentToken(), inPartition(want)));
    },
  };
}
