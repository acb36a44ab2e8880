// Cluster peering wire types (Consul's api.Peering, PeeringToken and requests) shared by the
// state, the endpoint, the HTTP handlers, the peer stream and the CLI, with the client calls.
import type { CallOptions, ConsulClient } from './client.ts';

/** The states a peering can be in (Consul's api.PeeringState). */
export type PeeringState = 'UNDEFINED' | 'PENDING' | 'ESTABLISHING' | 'ACTIVE' | 'FAILING' | 'DELETING' | 'TERMINATED';

/** Where the remote end of a peering lives. */
export interface PeeringRemoteInfo {
  Partition: string;
  Datacenter: string;
}

/** What the stream tracker reports about a peering's stream (null times: never). */
export interface PeeringStreamStatus {
  ImportedServices: string[] | null;
  ExportedServices: string[] | null;
  LastHeartbeat: string | null;
  LastReceive: string | null;
  LastSend: string | null;
}

/** A peering as stored: the API shape without stream status and indexes, plus dialing addresses. */
export interface PeeringRecord {
  ID: string;
  Name: string;
  /** The local partition of a peering outside `default` (set by the replica from the store key, never stored). */
  Partition?: string;
  /** RFC 3339; set when the peering was marked for deletion. */
  DeletedAt?: string;
  Meta?: Record<string, string>;
  State: PeeringState;
  /** The ID the peer gave this peering (in the token): what a dialer presents. */
  PeerID?: string;
  PeerCAPems?: string[];
  PeerServerName?: string;
  PeerServerAddresses?: string[];
  /** The token's ServerExternalAddresses: dialed before PeerServerAddresses. */
  ManualServerAddresses?: string[];
  Remote: PeeringRemoteInfo;
}

/** A peering as GET /v1/peering/:name answers it (Consul's api.Peering). */
export interface Peering {
  ID: string;
  Name: string;
  /** The local partition (Consul Enterprise; omitted for the default partition unless a request named one). */
  Partition?: string;
  DeletedAt?: string;
  Meta?: Record<string, string>;
  State: PeeringState;
  PeerID?: string;
  PeerCAPems?: string[];
  PeerServerName?: string;
  PeerServerAddresses?: string[];
  StreamStatus: PeeringStreamStatus;
  CreateIndex: number;
  ModifyIndex: number;
  Remote: PeeringRemoteInfo;
}

/** The decoded peering token (Consul's structs.PeeringToken): base64 of this JSON. */
export interface PeeringToken {
  CA: string[] | null;
  ManualServerAddresses: string[] | null;
  ServerAddresses: string[] | null;
  ServerName: string;
  PeerID: string;
  EstablishmentSecret: string;
  Remote: PeeringRemoteInfo;
}

/** POST /v1/peering/token body. */
export interface PeeringGenerateTokenRequest {
  PeerName: string;
  Partition?: string;
  Meta?: Record<string, string>;
  ServerExternalAddresses?: string[];
}

/** POST /v1/peering/establish body. */
export interface PeeringEstablishRequest {
  PeerName: string;
  PeeringToken: string;
  Partition?: string;
  Meta?: Record<string, string>;
}

/** POST /v1/peering/token. */
export async function peeringGenerateToken(c: ConsulClient, req: PeeringGenerateTokenRequest, options?: CallOptions): Promise<{ PeeringToken: string }> {
  return (await c.json<{ PeeringToken: string }>({ method: 'POST', path: '/v1/peering/token', json: req, options })).data;
}

/** POST /v1/peering/establish. */
export async function peeringEstablish(c: ConsulClient, req: PeeringEstablishRequest, options?: CallOptions): Promise<void> {
  await c.request({ method: 'POST', path: '/v1/peering/establish', json: req, options });
}

/** GET /v1/peering/:name; null when there is none. */
export async function peeringRead(c: ConsulClient, name: string, options?: CallOptions): Promise<Peering | null> {
  const res = await c.request({ method: 'GET', path: `/v1/peering/${encodeURIComponent(name)}`, options, accept: [404] });
  return res.status === 404 ? null : (JSON.parse(res.body.toString('utf8')) as Peering);
}

/** GET /v1/peerings. */
export async function peeringList(c: ConsulClient, options?: CallOptions): Promise<Peering[]> {
  return (await c.json<Peering[] | null>({ method: 'GET', path: '/v1/peerings', options })).data ?? [];
}

/** DELETE /v1/peering/:name. */
export async function peeringDelete(c: ConsulClient, name: string, options?: CallOptions): Promise<void> {
  await c.request({ method: 'DELETE', path: `/v1/peering/${encodeURIComponent(name)}`, options });
}
