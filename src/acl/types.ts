// ACL wire types with Consul's exact JSON names, shared by state, endpoints, HTTP and the API
// client. Optional fields are the ones Consul marks `omitempty`.

/** A link from a token or role to a policy or role, by ID (Name filled in on read). */
export interface ACLLink {
  ID: string;
  Name?: string;
}

/** Grants what a service (and its sidecar proxy) needs; Datacenters empty means all. */
export interface ACLServiceIdentity {
  ServiceName: string;
  Datacenters?: string[];
}

/** Grants what a node's agent needs, in one datacenter. */
export interface ACLNodeIdentity {
  NodeName: string;
  Datacenter: string;
}

/** Input variables of a templated policy (lower-case `name` on the wire, as Consul). */
export interface ACLTemplatedPolicyVariables {
  name?: string;
}

/** A built-in templated policy applied to a token or role. */
export interface ACLTemplatedPolicy {
  TemplateID?: string;
  TemplateName?: string;
  TemplateVariables?: ACLTemplatedPolicyVariables;
  Datacenters?: string[];
}

/** An ACL token. */
export interface ACLToken {
  AccessorID: string;
  SecretID: string;
  Description: string;
  Policies?: ACLLink[];
  Roles?: ACLLink[];
  ServiceIdentities?: ACLServiceIdentity[];
  NodeIdentities?: ACLNodeIdentity[];
  TemplatedPolicies?: ACLTemplatedPolicy[];
  Local: boolean;
  AuthMethod?: string;
  /** RFC 3339 time after which the token is revoked; absent means never. */
  ExpirationTime?: string;
  /** Create-time convenience (`"10m"` or nanoseconds); cleared once ExpirationTime is set. */
  ExpirationTTL?: string | number;
  /** RFC 3339 creation time. */
  CreateTime: string;
  /** Base64 content hash. */
  Hash: string;
  CreateIndex: number;
  ModifyIndex: number;
  Namespace?: string;
  Partition?: string;
  AuthMethodNamespace?: string;
}

/** A token as `/v1/acl/tokens` lists it. */
export type ACLTokenListStub = Omit<ACLToken, 'ExpirationTTL'> & { Legacy?: boolean };

/** An ACL policy: named rules. */
export interface ACLPolicy {
  ID: string;
  Name: string;
  Description: string;
  Rules: string;
  Datacenters?: string[];
  Hash: string;
  CreateIndex: number;
  ModifyIndex: number;
  Namespace?: string;
  Partition?: string;
}

/** A policy as `/v1/acl/policies` lists it (no Rules; Datacenters always present). */
export interface ACLPolicyListStub {
  ID: string;
  Name: string;
  Description: string;
  Datacenters: string[] | null;
  Hash: string;
  CreateIndex: number;
  ModifyIndex: number;
  Namespace?: string;
  Partition?: string;
}

/** An ACL role: a named bundle of policies and identities. */
export interface ACLRole {
  ID: string;
  Name: string;
  Description: string;
  Policies?: ACLLink[];
  ServiceIdentities?: ACLServiceIdentity[];
  NodeIdentities?: ACLNodeIdentity[];
  TemplatedPolicies?: ACLTemplatedPolicy[];
  Hash: string;
  CreateIndex: number;
  ModifyIndex: number;
  Namespace?: string;
  Partition?: string;
}

/** Where an auth method's tokens live: `local` (default) or `global`. */
export type ACLTokenLocality = 'local' | 'global';

/** An auth method (`kubernetes`, `jwt`, `oidc`, …) and its type-specific Config. */
export interface ACLAuthMethod {
  Name: string;
  Type: string;
  DisplayName?: string;
  Description?: string;
  /** A Go duration such as `"5m0s"`; absent when zero. */
  MaxTokenTTL?: string;
  TokenLocality?: ACLTokenLocality;
  Config: Record<string, unknown>;
  NamespaceRules?: Array<{ Selector: string; BindNamespace: string }>;
  CreateIndex: number;
  ModifyIndex: number;
  Namespace?: string;
  Partition?: string;
}

/** What a binding rule grants at login. */
export type ACLBindType = 'service' | 'node' | 'role' | 'policy' | 'templated-policy';

/** Maps verified identity attributes to grants on the login token. */
export interface ACLBindingRule {
  ID: string;
  Description: string;
  AuthMethod: string;
  Selector: string;
  BindType: ACLBindType;
  BindName: string;
  BindVars?: ACLTemplatedPolicyVariables;
  CreateIndex: number;
  ModifyIndex: number;
  Namespace?: string;
  Partition?: string;
}

/** `/v1/acl/replication`. */
export interface ACLReplicationStatus {
  Enabled: boolean;
  Running: boolean;
  SourceDatacenter: string;
  ReplicationType: 'policies' | 'roles' | 'tokens' | '';
  ReplicatedIndex: number;
  ReplicatedRoleIndex: number;
  ReplicatedTokenIndex: number;
  LastSuccess: string;
  LastError: string;
  LastErrorMessage: string;
}

/** A built-in templated policy as `/v1/acl/templated-policies` shows it. */
export interface ACLTemplatedPolicyResponse {
  TemplateName: string;
  Schema: string;
  Template: string;
  Description: string;
}
