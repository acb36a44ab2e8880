// Record shapes of the small replica tables that have no file of their own yet.

/** Cluster-wide identity written once by the first leader (`meta/cluster`). */
export interface ClusterMeta {
  ClusterID: string;
}

/**
 * The Connect CA configuration as stored under `ca/config/current` (Consul's CAConfiguration
 * without ClusterID and indexes): written by the first leader from the agent's connect stanza,
 * then by PUT /v1/connect/ca/configuration.
 */
export interface CAConfigRecord {
  Provider: string;
  Config: Record<string, unknown>;
  State: Record<string, string> | null;
  ForceWithoutCrossSigning: boolean;
}

/** A Connect CA root as stored under `ca/root/<id>` (Consul's CARoot without indexes). */
export interface CARootRecord {
  ID: string;
  Active: boolean;
  [field: string]: unknown;
}
