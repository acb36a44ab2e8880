// Decoding of ACL request bodies the way Consul's decoder reads them: field names matched
// case-insensitively, link lists normalised, ExpirationTTL as a Go duration or nanoseconds.
import { BadRequestError } from '../../errors.ts';
import { goDurationError, parseGoDuration } from '../../duration.ts';
import type { AuthMethodInput, BindingRuleInput, PolicyInput, RoleInput, TokenInput } from '../../endpoint/index.ts';
import { canonical, parseJSON } from '../body.ts';
import { checkGoTypes, goJsonKind, type GoType } from '../go-json.ts';
import { refuseUnknownFields, type Shape } from '../known-fields.ts';
import { ACL_AUTH_METHOD, ACL_BINDING_RULE, ACL_POLICY, ACL_ROLE, ACL_TOKEN } from '../request-fields.ts';

const TOKEN = ['AccessorID', 'SecretID', 'Description', 'Policies', 'Roles', 'ServiceIdentities', 'NodeIdentities', 'TemplatedPolicies', 'Local', 'AuthMethod', 'ExpirationTime', 'ExpirationTTL', 'Namespace', 'Partition'];
const POLICY = ['ID', 'Name', 'Description', 'Rules', 'Datacenters', 'Namespace', 'Partition'];
const ROLE = ['ID', 'Name', 'Description', 'Policies', 'ServiceIdentities', 'NodeIdentities', 'TemplatedPolicies', 'Namespace', 'Partition'];
const METHOD = ['Name', 'Type', 'DisplayName', 'Description', 'MaxTokenTTL', 'TokenLocality', 'Config', 'NamespaceRules', 'Namespace', 'Partition'];
const RULE = ['ID', 'Description', 'AuthMethod', 'Selector', 'BindType', 'BindName', 'BindVars', 'Namespace', 'Partition'];

function object(body: Buffer, what: string, prefix = 'Request decode failed'): Record<string, unknown> {
  const raw = parseJSON(body, prefix) ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BadRequestError(`${prefix}: json: cannot unmarshal ${goJsonKind(raw)} into Go value of type ${what}`);
  }
  return raw as Record<string, unknown>;
}

/**
 * A body's fields with the Go types Consul decodes them into, its struct name, its decode-error prefix
 * (acl_endpoint.go) and the keys its strict decoder takes.
 */
interface BodyShape { struct: string; prefix: string; types: Record<string, GoType | [GoType, string]>; known: Shape }

const NAMES: Record<string, GoType> = { ID: 'string', Name: 'string', Description: 'string', Namespace: 'string', Partition: 'string' };
const LINK_LISTS: Record<string, GoType | [GoType, string]> = {
  Policies: ['array', '[]structs.ACLTokenPolicyLink'], Roles: ['array', '[]structs.ACLTokenRoleLink'],
  ServiceIdentities: ['array', '[]*structs.ACLServiceIdentity'], NodeIdentities: ['array', '[]*structs.ACLNodeIdentity'],
  TemplatedPolicies: ['array', '[]*structs.ACLTemplatedPolicy'],
};
const POLICY_SHAPE: BodyShape = { struct: 'ACLPolicy', prefix: 'Policy decoding failed', types: { ...NAMES, Rules: 'string', Datacenters: '[]string' }, known: ACL_POLICY };
const ROLE_SHAPE: BodyShape = { struct: 'ACLRole', prefix: 'Role decoding failed', types: { ...NAMES, ...LINK_LISTS }, known: ACL_ROLE };
const TOKEN_SHAPE: BodyShape = {
  struct: 'ACLToken', prefix: 'Token decoding failed',
  types: { AccessorID: 'string', SecretID: 'string', Description: 'string', Namespace: 'string', Partition: 'string', AuthMethod: 'string', Local: 'bool', ...LINK_LISTS },
  known: ACL_TOKEN,
};
const METHOD_SHAPE: BodyShape = {
  struct: 'ACLAuthMethod', prefix: 'AuthMethod decoding failed',
  types: { ...NAMES, Type: 'string', DisplayName: 'string', TokenLocality: 'string', Config: 'object', NamespaceRules: ['array', '[]*structs.ACLAuthMethodNamespaceRule'] },
  known: ACL_AUTH_METHOD,
};
const RULE_SHAPE: BodyShape = {
  struct: 'ACLBindingRule', prefix: 'BindingRule decoding failed',
  types: { ID: 'string', Description: 'string', AuthMethod: 'string', Selector: 'string', BindType: 'string', BindName: 'string', BindVars: 'object', Namespace: 'string', Partition: 'string' },
  known: ACL_BINDING_RULE,
};
// The link elements' own fields (Go names the innermost struct and the path to the field).
const LINK_FIELDS: Record<string, [string, Record<string, GoType>]> = {
  Policies: ['ACLTokenPolicyLink', { ID: 'string', Name: 'string' }],
  Roles: ['ACLTokenRoleLink', { ID: 'string', Name: 'string' }],
  ServiceIdentities: ['ACLServiceIdentity', { ServiceName: 'string', Datacenters: '[]string' }],
  NodeIdentities: ['ACLNodeIdentity', { NodeName: 'string', Datacenter: 'string' }],
  TemplatedPolicies: ['ACLTemplatedPolicy', { TemplateName: 'string', TemplateVariables: 'object', Datacenters: '[]string' }],
};

/** The body as an object of `shape`'s struct, its fields' JSON types checked as Go's decoder does. */
function decodeShaped(body: Buffer, shape: BodyShape, fields: string[]): Record<string, unknown> {
  const raw = object(body, `structs.${shape.struct}`, shape.prefix);
  refuseUnknownFields(raw, shape.known, shape.prefix);
  const b = canonical(raw, fields);
  checkGoTypes(b, shape.types, shape.struct, shape.prefix);
  return b;
}

/** An auth method's NamespaceRules elements (Consul Enterprise's ACLAuthMethodNamespaceRule). */
const NAMESPACE_RULE: [string, Record<string, GoType>] = ['ACLAuthMethodNamespaceRule', { Selector: 'string', BindNamespace: 'string' }];

/**
 * structs.ACLTemplatedPolicyVariables, whose one field is tagged `name`: Go matches any case, and
 * Consul's Go client (api.ACLTemplatedPolicyVariables, untagged) sends `Name`.
 */
function variables(v: unknown): unknown {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? canonical(v, ['name']) : v;
}

function list(v: unknown, key: string, prefix: string, spec = LINK_FIELDS[key]): Record<string, unknown>[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new BadRequestError(`${prefix}: json: cannot unmarshal ${goJsonKind(v)} into Go struct field .${key}`);
  const [struct, types] = spec;
  return v.map((x) => {
    if (x !== null && (typeof x !== 'object' || Array.isArray(x))) {
      throw new BadRequestError(`${prefix}: json: cannot unmarshal ${goJsonKind(x)} into Go struct field .${key} of type structs.${struct}`);
    }
    const el = canonical(x, Object.keys(types));
    checkGoTypes(el, types, struct, prefix, `${key}.`);
    if (el.TemplateVariables !== undefined) el.TemplateVariables = variables(el.TemplateVariables);
    return el;
  });
}

function links<T>(b: Record<string, unknown>, prefix: string): Record<string, T | undefined> {
  const out: Record<string, T | undefined> = {};
  for (const key of Object.keys(LINK_FIELDS)) out[key] = list(b[key], key, prefix) as T;
  return out;
}

/** ExpirationTTL in ms from a Go duration string or a number of nanoseconds. */
function ttlMs(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '' || v === 0) return undefined;
  if (typeof v === 'number') return v / 1e6;
  if (typeof v === 'string') {
    const ms = parseGoDuration(v);
    if (ms === null) throw new BadRequestError(`Request decode failed: ${goDurationError(v)}`);
    return ms;
  }
  throw new BadRequestError('Request decode failed: ExpirationTTL must be a duration');
}

/** Decodes a token create/update body. */
export function decodeToken(body: Buffer): TokenInput {
  const b = decodeShaped(body, TOKEN_SHAPE, TOKEN);
  return {
    ...(b as TokenInput), ...links(b, TOKEN_SHAPE.prefix), ExpirationTTL: ttlMs(b.ExpirationTTL),
    ExpirationTime: typeof b.ExpirationTime === 'string' && b.ExpirationTime ? new Date(b.ExpirationTime).toISOString() : undefined,
  } as TokenInput;
}

/** Decodes a policy body. */
export function decodePolicy(body: Buffer): PolicyInput {
  return decodeShaped(body, POLICY_SHAPE, POLICY) as PolicyInput;
}

/** Decodes a role body. */
export function decodeRole(body: Buffer): RoleInput {
  const b = decodeShaped(body, ROLE_SHAPE, ROLE);
  const { Roles: _r, ...l } = links(b, ROLE_SHAPE.prefix);
  return { ...(b as RoleInput), ...l } as RoleInput;
}

/** Decodes an auth method body. */
export function decodeAuthMethod(body: Buffer): AuthMethodInput {
  const b = decodeShaped(body, METHOD_SHAPE, METHOD);
  const rules = list(b.NamespaceRules, 'NamespaceRules', METHOD_SHAPE.prefix, NAMESPACE_RULE);
  return (rules ? { ...b, NamespaceRules: rules } : b) as AuthMethodInput;
}

/** Decodes a binding rule body. */
export function decodeBindingRule(body: Buffer): BindingRuleInput {
  const b = decodeShaped(body, RULE_SHAPE, RULE);
  if (b.BindVars !== undefined) b.BindVars = variables(b.BindVars);
  return b as BindingRuleInput;
}

/**
 * Decodes any JSON object body with the given canonical fields; with `types`, each field's JSON
 * type is checked as Go's decoder would, with `known`, keys no field takes are refused as Consul's
 * strict decoder refuses them (`prefix` is the endpoint's wording of a decode error).
 */
export function decodeObject(
  body: Buffer, fields: string[], what: string, checked?: { types?: Record<string, GoType>; prefix: string; known?: Shape },
): Record<string, unknown> {
  const raw = object(body, what, checked?.prefix);
  if (checked?.known) refuseUnknownFields(raw, checked.known, checked.prefix);
  const b = canonical(raw, fields);
  if (checked?.types) checkGoTypes(b, checked.types, what.replace(/^structs\./, ''), checked.prefix);
  return b;
}
