// Network coordinate wire types with Consul's JSON names (api.CoordinateEntry,
// api.CoordinateDatacenterMap), shared by the state table, the endpoint, HTTP and the client.
import type { Coordinate } from '../gossip/coordinate.ts';

export type { Coordinate } from '../gossip/coordinate.ts';

/** One node's LAN coordinate in one network segment ('' is the default segment). */
export interface CoordinateEntry {
  Node: string;
  Segment: string;
  /** Consul Enterprise: the node's partition, answered when the request names one. */
  Partition?: string;
  Coord: Coordinate;
}

/** The WAN coordinates of one datacenter's servers (`/v1/coordinate/datacenters`). */
export interface CoordinateDatacenterMap {
  Datacenter: string;
  /** `wan` for the WAN pool (network areas are Enterprise). */
  AreaID: string;
  Coordinates: CoordinateEntry[];
}
