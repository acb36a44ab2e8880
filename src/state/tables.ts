// Record shapes of the small replica tables that have no file of their own yet.

/** Cluster-wide identity written once by the first leader (`meta/cluster`). */
export interface ClusterMeta {
  ClusterID: string;
}

/** A Connect CA root as stored under `ca/root/<id>` (Consul's CARoot without indexes). */
export interface CARootRecord {
  ID: string;
  Active: boolean;
  [field: string]: unknown;
}
