// Wire types of the Connect agent API (Consul's api.LeafCert), shared by the agent that serves
// them, the servers that sign, and the built-in proxy that reads them.

/** Consul's IssuedCert for a service, as GET /v1/agent/connect/ca/leaf/:service answers it. */
export interface LeafCert {
  SerialNumber: string;
  CertPEM: string;
  /** Empty from the server; the agent fills in the key it made. */
  PrivateKeyPEM: string;
  Service: string;
  ServiceURI: string;
  ValidAfter: string;
  ValidBefore: string;
  /** Consul Enterprise's EnterpriseMeta: only for a service outside the default namespace and partition. */
  Namespace?: string;
  Partition?: string;
  CreateIndex: number;
  ModifyIndex: number;
}
