// Namespace wire types (Consul Enterprise's api.Namespace, api/namespace.go) shared by the
// endpoint, the HTTP handlers and the CLI, with the client calls.
import type { CallOptions, ConsulClient, QueryOptions } from './client.ts';

/** A link to an ACL policy or role of the default namespace, by ID or name (answered with both). */
export interface ACLLink {
  ID?: string;
  Name?: string;
}

/** A namespace's ACL defaults (api.NamespaceACLConfig): both lists are always written. */
export interface NamespaceACLConfig {
  PolicyDefaults: ACLLink[];
  RoleDefaults: ACLLink[];
}

/** A namespace as the API answers it; fields in api.Namespace order, all but Name omitted when empty. */
export interface Namespace {
  Name: string;
  Description?: string;
  ACLs?: NamespaceACLConfig;
  Meta?: Record<string, string>;
  /** RFC 3339 time it was marked for deletion. */
  DeletedAt?: string;
  Partition?: string;
  CreateIndex?: number;
  ModifyIndex?: number;
}

/** Options of the namespace calls: the partition the namespace lives in (`?partition=`). */
export interface NamespaceCallOptions extends QueryOptions {
  partition?: string;
}

const query = (o?: NamespaceCallOptions) => (o?.partition ? { partition: o.partition } : undefined);

/** PUT /v1/namespace: creates (or, for an existing name, updates) a namespace. */
export async function namespaceCreate(c: ConsulClient, ns: Namespace, options?: NamespaceCallOptions): Promise<Namespace> {
  return (await c.json<Namespace>({ method: 'PUT', path: '/v1/namespace', json: ns, query: query(options), options })).data;
}

/** PUT /v1/namespace/:name. */
export async function namespaceUpdate(c: ConsulClient, ns: Namespace, options?: NamespaceCallOptions): Promise<Namespace> {
  return (await c.json<Namespace>({ method: 'PUT', path: `/v1/namespace/${encodeURIComponent(ns.Name)}`, json: ns, query: query(options), options })).data;
}

/** GET /v1/namespace/:name; null when there is none. */
export async function namespaceRead(c: ConsulClient, name: string, options?: NamespaceCallOptions): Promise<Namespace | null> {
  const res = await c.request({ method: 'GET', path: `/v1/namespace/${encodeURIComponent(name)}`, query: query(options), options, accept: [404] });
  return res.status === 404 ? null : (JSON.parse(res.body.toString('utf8')) as Namespace);
}

/** GET /v1/namespaces. */
export async function namespaceList(c: ConsulClient, options?: NamespaceCallOptions): Promise<Namespace[]> {
  return (await c.json<Namespace[] | null>({ method: 'GET', path: '/v1/namespaces', query: query(options), options })).data ?? [];
}

/** DELETE /v1/namespace/:name. */
export async function namespaceDelete(c: ConsulClient, name: string, options?: CallOptions & { partition?: string }): Promise<void> {
  await c.request({ method: 'DELETE', path: `/v1/namespace/${encodeURIComponent(name)}`, query: query(options), options });
}
