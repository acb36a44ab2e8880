// The cluster peering tables of the replica (Consul's `peering`, `peering-secrets` and the
// catalog rows imported from peers): peerings by ID (`peering/<id>`) with a by-name lookup,
// their secrets (`peeringsecret/<id>`), and the service instances each peer exports to us
// (`peerimport/<peer>/<service>`), one record per imported service; and what the server holding
// a peering's stream last published of it (`peeringstatus/<id>/<node>`), so every server of the
// datacenter answers the stream's state.
import { RecordTable, type Indexed } from './records.ts';
import type { PeeringRecord } from '../api/peering.ts';
import type { CheckServiceNode } from '../api/catalog-types.ts';

/** Store prefix of the peerings. */
export const PEERING_PREFIX = 'peering/';
/** Notifier table of the peerings (keys are peering IDs). */
export const PEERINGS_TABLE = 'peerings';
/** Store prefix of the peering secrets. */
export const PEERING_SECRET_PREFIX = 'peeringsecret/';
/** Store prefix of the published stream status records. */
export const PEERING_STATUS_PREFIX = 'peeringstatus/';
/** Store prefix of the imported services. */
export const PEER_IMPORT_PREFIX = 'peerimport/';
/** Notifier table of the imported services (keys are `<peer>/<folded service>`, URI-encoded). */
export const PEER_IMPORTS_TABLE = 'peer-imports';

/** A stored peering with its indexes. */
export type StoredPeering = Indexed<PeeringRecord>;

/**
 * The secrets of one peering: the single-use establishment secret an acceptor's token carries,
 * and the stream secrets a dialer presents (pending until its first stream, then active).
 */
export interface PeeringSecrets {
  Establishment?: string;
  PendingStream?: string;
  ActiveStream?: string;
}

/**
 * A peering's stream as one server (its holder) last published it: written on every connect and
 * disconnect and at most about once a minute otherwise, so times may lag by that much. `Lease`
 * is the holder's server lease when written: a record whose holder no longer holds that lease
 * speaks for a stream that is gone. Times are wall-clock ms (null: never).
 */
export interface PeeringStatusRecord {
  PeeringID: string;
  Node: string;
  Lease: number;
  Connected: boolean;
  DisconnectError: string;
  /** When the stream last connected or disconnected here. */
  Since: number;
  LastHeartbeat: number | null;
  LastReceive: number | null;
  LastSend: number | null;
  Imported: string[];
  Exported: string[];
}

/** The instances of one service a peer exports to us, as the peer sent them. */
export interface PeerImportRecord {
  /** The local name of the peering it came over. */
  Peer: string;
  Service: string;
  Nodes: CheckServiceNode[];
}

/** Store key of a peering. */
export const peeringKey = (id: string): string => PEERING_PREFIX + id;
/** Store key of a peering's secrets. */
export const peeringSecretKey = (id: string): string => PEERING_SECRET_PREFIX + id;
/** Store key of one server's status record of a peering's stream. */
export const peeringStatusKey = (id: string, node: string): string => `${PEERING_STATUS_PREFIX}${id}/${encodeURIComponent(node)}`;
/** Notifier key (and store key tail) of one imported service: peer name and case-folded service name. */
export const peerImportId = (peer: string, service: string): string =>
  `${encodeURIComponent(peer)}/${encodeURIComponent(service.toLowerCase())}`;
/** Store key of one imported service. */
export const peerImportKey = (peer: string, service: string): string => PEER_IMPORT_PREFIX + peerImportId(peer, service);

/** Peerings by ID, looked up by name case-insensitively as Consul's name index does. */
export class PeeringsTable extends RecordTable<PeeringRecord> {
  constructor() {
    super(PEERINGS_TABLE, PEERING_PREFIX);
  }

  /** The peering with this name in `partition` (absent: the default partition; names are unique per partition). */
  byName(name: string, partition?: string): StoredPeering | undefined {
    const lower = name.toLowerCase();
    const ap = partition?.toLowerCase() || undefined;
    return this.all().find((p) => p.Name.toLowerCase() === lower && inPartition(p, ap));
  }

  /** Every peering of `partition` (absent: the default partition) sorted by name. */
  list(partition?: string): StoredPeering[] {
    const ap = partition?.toLowerCase() || undefined;
    return this.all().filter((p) => inPartition(p, ap)).sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  }
}

/** Whether a peering is of folded partition `ap` (undefined or `default`: the default partition, whose records have no Partition). */
function inPartition(p: PeeringRecord, ap: string | undefined): boolean {
  return ap === undefined || ap === 'default' ? p.Partition === undefined : p.Partition === ap;
}

/** The services imported from peers. */
export class PeerImportsTable extends RecordTable<PeerImportRecord> {
  constructor() {
    super(PEER_IMPORTS_TABLE, PEER_IMPORT_PREFIX);
  }

  /** One imported service of a peer. */
  service(peer: string, service: string): Indexed<PeerImportRecord> | undefined {
    return this.get(peerImportId(peer, service));
  }

  /** Every service imported from a peer, sorted by name. */
  ofPeer(peer: string): Indexed<PeerImportRecord>[] {
    return this.all().filter((r) => r.Peer === peer).sort((a, b) => (a.Service < b.Service ? -1 : a.Service > b.Service ? 1 : 0));
  }
}

/** The published stream status records, by `<peering id>/<node>`. */
export class PeeringStatusTable extends RecordTable<PeeringStatusRecord> {
  constructor() {
    super('peering-status', PEERING_STATUS_PREFIX);
  }

  /** Every server's record of one peering. */
  ofPeering(id: string): Indexed<PeeringStatusRecord>[] {
    return this.all().filter((r) => r.PeeringID === id);
  }
}
