// Built-in ACL records (global-management and global-read-only policies, the anonymous token,
// reserved IDs) and the synthetic policies Consul derives from service and node identities.
import type { ACLNodeIdentity, ACLPolicy, ACLServiceIdentity } from './types.ts';

/** The global-management policy's fixed ID. */
export const ACL_POLICY_GLOBAL_MANAGEMENT_ID = '00000000-0000-0000-0000-000000000001';
/** The global-management policy's (renamable) name. */
export const ACL_POLICY_GLOBAL_MANAGEMENT_NAME = 'global-management';
/** The global-management policy's description. */
export const ACL_POLICY_GLOBAL_MANAGEMENT_DESC = 'Builtin Policy that grants unlimited access';
/** The global-management rules, as Consul CE stores them (immutable). */
export const ACL_POLICY_GLOBAL_MANAGEMENT_RULES = `
acl = "write"
agent_prefix "" {
\tpolicy = "write"
}
event_prefix "" {
\tpolicy = "write"
}
key_prefix "" {
\tpolicy = "write"
}
keyring = "write"
node_prefix "" {
\tpolicy = "write"
}
operator = "write"
mesh = "write"
peering = "write"
query_prefix "" {
\tpolicy = "write"
}
service_prefix "" {
\tpolicy = "write"
\tintentions = "write"
}
session_prefix "" {
\tpolicy = "write"
}`;

/** The global-read-only policy's fixed ID. */
export const ACL_POLICY_GLOBAL_READ_ONLY_ID = '00000000-0000-0000-0000-000000000002';
/** The global-read-only policy's name. */
export const ACL_POLICY_GLOBAL_READ_ONLY_NAME = 'builtin/global-read-only';
/** The global-read-only policy's description. */
export const ACL_POLICY_GLOBAL_READ_ONLY_DESC = 'Builtin Policy that grants unlimited read-only access to all components';
/** The global-read-only rules. */
export const ACL_POLICY_GLOBAL_READ_ONLY_RULES = ACL_POLICY_GLOBAL_MANAGEMENT_RULES.replaceAll('"write"', '"read"');

/** IDs starting with this are reserved for built-in records. */
export const ACL_RESERVED_ID_PREFIX = '00000000-0000-0000-0000-0000000000';

/** Whether an ID is reserved for built-ins (Consul's ACLIDReserved). */
export function aclIDReserved(id: string): boolean {
  return id.startsWith(ACL_RESERVED_ID_PREFIX);
}

/** The anonymous token's AccessorID, used for requests without a token. */
export const ANONYMOUS_TOKEN_ID = '00000000-0000-0000-0000-000000000002';
/** The anonymous token's SecretID. */
export const ANONYMOUS_TOKEN_SECRET = 'anonymous';
/** The anonymous token's description. */
export const ANONYMOUS_TOKEN_DESCRIPTION = 'Anonymous Token';

/** Consul's `ACL bootstrap no longer allowed` (403 on a second bootstrap). */
export const ACL_BOOTSTRAP_NOT_ALLOWED = 'ACL bootstrap no longer allowed';
/** Consul's `Invalid ACL bootstrap reset index`. */
export const ACL_BOOTSTRAP_INVALID_RESET_INDEX = 'Invalid ACL bootstrap reset index';

/** The built-in policies by ID, without raft indexes or hash (the state layer adds those). */
export const ACL_BUILTIN_POLICIES: ReadonlyArray<Pick<ACLPolicy, 'ID' | 'Name' | 'Description' | 'Rules'>> = [
  { ID: ACL_POLICY_GLOBAL_MANAGEMENT_ID, Name: ACL_POLICY_GLOBAL_MANAGEMENT_NAME, Description: ACL_POLICY_GLOBAL_MANAGEMENT_DESC, Rules: ACL_POLICY_GLOBAL_MANAGEMENT_RULES },
  { ID: ACL_POLICY_GLOBAL_READ_ONLY_ID, Name: ACL_POLICY_GLOBAL_READ_ONLY_NAME, Description: ACL_POLICY_GLOBAL_READ_ONLY_DESC, Rules: ACL_POLICY_GLOBAL_READ_ONLY_RULES },
];

/** The rules synthesized for a service identity. */
export function serviceIdentityRules(service: string): string {
  return `
service "${service}" {
\tpolicy = "write"
}
service "${service}-sidecar-proxy" {
\tpolicy = "write"
}
service_prefix "" {
\tpolicy = "read"
}
node_prefix "" {
\tpolicy = "read"
}`;
}

/** The rules synthesized for a node identity. */
export function nodeIdentityRules(node: string): string {
  return `
node "${node}" {
\tpolicy = "write"
}
service_prefix "" {
\tpolicy = "read"
}`;
}

// Consul computes `fnv.New128a().Sum([]byte(rules))`, which appends the hash of the empty input
// (the FNV-128a offset basis) to the rules' bytes; the hex of that is the synthetic policy's ID.
const FNV128A_EMPTY = '6c62272e07bb014262b821756295c58d';

/** The ID Consul gives a synthetic policy with these rules. */
export function syntheticPolicyID(rules: string): string {
  return Buffer.from(rules, 'utf8').toString('hex') + FNV128A_EMPTY;
}

/** A synthetic policy's shape (no hash or indexes: it is never stored). */
export type SyntheticPolicy = Pick<ACLPolicy, 'ID' | 'Name' | 'Description' | 'Rules' | 'Datacenters'>;

/** Builds a synthetic policy around rules. */
export function syntheticPolicy(rules: string, description: string, datacenters?: string[]): SyntheticPolicy {
  const id = syntheticPolicyID(rules);
  const policy: SyntheticPolicy = { ID: id, Name: `synthetic-policy-${id}`, Description: description, Rules: rules };
  if (datacenters && datacenters.length > 0) policy.Datacenters = [...datacenters];
  return policy;
}

/** The synthetic policy of a service identity. */
export function serviceIdentityPolicy(identity: ACLServiceIdentity): SyntheticPolicy {
  const rules = serviceIdentityRules(identity.ServiceName);
  return syntheticPolicy(rules, `synthetic policy for service identity "${identity.ServiceName}"`, identity.Datacenters);
}

/** The synthetic policy of a node identity (valid only in the identity's datacenter). */
export function nodeIdentityPolicy(identity: ACLNodeIdentity): SyntheticPolicy {
  const rules = nodeIdentityRules(identity.NodeName);
  return syntheticPolicy(rules, `synthetic policy for node identity "${identity.NodeName}"`, [identity.Datacenter]);
}

const IDENTITY_NAME = /^[a-z0-9]([a-z0-9\-_]*[a-z0-9])?$/;

/** Whether a service identity name is valid: lowercase alphanumerics, `-` and `_`, ≤ 256 chars. */
export function isValidServiceIdentityName(name: string): boolean {
  return name.length <= 256 && IDENTITY_NAME.test(name);
}

/** Whether a node identity name is valid (same rule as service identities). */
export function isValidNodeIdentityName(name: string): boolean {
  return name.length <= 256 && IDENTITY_NAME.test(name);
}
