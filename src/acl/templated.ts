// Consul's built-in templated policies (builtin/service, builtin/node, builtin/dns, …): their IDs,
// schemas and rule templates, variable validation, and the synthetic policies they render to.
import {
  isValidNodeIdentityName, isValidServiceIdentityName, nodeIdentityRules, serviceIdentityRules, syntheticPolicy,
  type SyntheticPolicy,
} from './builtins.ts';
import type { ACLTemplatedPolicy, ACLTemplatedPolicyResponse } from './types.ts';

/** A built-in template: its name, fixed ID, JSON schema for variables and rules template. */
export interface TemplatedPolicyBase extends ACLTemplatedPolicyResponse {
  TemplateID: string;
}

const NAME_SCHEMA = `{
  "type": "object",
  "properties": {
    "name": { "type": "string", "$ref": "#/definitions/min-length-one" }
  },
  "required": ["name"],
  "definitions": {
    "min-length-one": {
      "type": "string",
      "minLength": 1
    }
  }
}`;

const DNS_TEMPLATE = `
node_prefix "" {
\tpolicy = "read"
}
service_prefix "" {
\tpolicy = "read"
}
query_prefix "" {
\tpolicy = "read"
}`;

const NOMAD_SERVER_TEMPLATE = `
acl = "write"
agent_prefix "" {
  policy = "read"
}
node_prefix "" {
  policy = "read"
}
service_prefix "" {
  policy = "write"
}`;

const NOMAD_CLIENT_TEMPLATE = `agent "{{.Name}}" {
  policy = "read"
}
node "{{.Name}}" {
  policy = "write"
}
service_prefix "" {
  policy = "write"
}
`;

const API_GATEWAY_TEMPLATE = `mesh = "read"
node_prefix "" {
\tpolicy = "read"
}
service_prefix "" {
\tpolicy = "read"
}
service "{{.Name}}" {
\tpolicy = "write"
}`;

function base(name: string, id: string, schema: string, template: string, description: string): TemplatedPolicyBase {
  return { TemplateName: name, TemplateID: id, Schema: schema, Template: template, Description: description };
}

/** The built-in templated policies by name. */
export const ACL_TEMPLATED_POLICIES: ReadonlyMap<string, TemplatedPolicyBase> = new Map([
  ['builtin/service', base('builtin/service', '00000000-0000-0000-0000-000000000003', NAME_SCHEMA, serviceIdentityRules('{{.Name}}'),
    "Gives the token or role permissions to register a service and discover services in the Consul catalog. It also gives the specified service's sidecar proxy the permission to discover and route traffic to other services.")],
  ['builtin/node', base('builtin/node', '00000000-0000-0000-0000-000000000004', NAME_SCHEMA, nodeIdentityRules('{{.Name}}'),
    'Gives the token or role permissions for a register an agent/node into the catalog. A node is typically a consul agent but can also be a physical server, cloud instance or a container.')],
  ['builtin/dns', base('builtin/dns', '00000000-0000-0000-0000-000000000005', '', DNS_TEMPLATE,
    'Gives the token or role permissions for the Consul DNS to query services in the network.')],
  ['builtin/nomad-server', base('builtin/nomad-server', '00000000-0000-0000-0000-000000000006', '', NOMAD_SERVER_TEMPLATE,
    'Gives the token or role permissions required for integration with a nomad server.')],
  ['builtin/workload-identity', base('builtin/workload-identity', '00000000-0000-0000-0000-000000000007', NAME_SCHEMA, 'identity "{{.Name}}" {\n\tpolicy = "write"\n}',
    'Gives the token or role permissions for a specific workload identity.')],
  ['builtin/api-gateway', base('builtin/api-gateway', '00000000-0000-0000-0000-000000000008', NAME_SCHEMA, API_GATEWAY_TEMPLATE,
    'Gives the token or role permissions for a Consul api gateway')],
  ['builtin/nomad-client', base('builtin/nomad-client', '00000000-0000-0000-0000-000000000009', NAME_SCHEMA, NOMAD_CLIENT_TEMPLATE,
    'Gives the token or role permissions required for integration with a nomad client.')],
]);

/** Validates a templated policy's variables against its schema; returns error messages (empty: valid). */
export function validateTemplatedPolicy(tp: ACLTemplatedPolicy): string[] {
  const tmpl = ACL_TEMPLATED_POLICIES.get(tp.TemplateName ?? '');
  if (!tmpl) return [`templated policy ${JSON.stringify(tp.TemplateName ?? '')} does not exist`];
  if (tmpl.Schema === '') return [];
  const name = tp.TemplateVariables?.name;
  if (name !== undefined && tp.TemplateName === 'builtin/service' && !isValidServiceIdentityName(name)) {
    return [`service identity ${JSON.stringify(name)} has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed`];
  }
  if (name !== undefined && tp.TemplateName === 'builtin/node' && !isValidNodeIdentityName(name)) {
    // Consul's message has the double space.
    return [`node identity ${JSON.stringify(name)}  has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed`];
  }
  if (name === undefined) return ['name is required'];
  if (name.length < 1) return ['String length must be greater than or equal to 1'];
  return [];
}

/** Renders a templated policy's rules; throws for an unknown template like Consul. */
export function templatedPolicyRules(tp: ACLTemplatedPolicy): string {
  const tmpl = ACL_TEMPLATED_POLICIES.get(tp.TemplateName ?? '');
  if (!tmpl) throw new Error(`acl templated policy does not exist: ${tp.TemplateName ?? ''}`);
  return tmpl.Template.replaceAll('{{.Name}}', tp.TemplateVariables?.name ?? '');
}

/** The synthetic policy a templated policy generates. */
export function templatedPolicySynthetic(tp: ACLTemplatedPolicy): SyntheticPolicy {
  const rules = templatedPolicyRules(tp);
  return syntheticPolicy(rules, `synthetic policy generated from templated policy: ${tp.TemplateName ?? ''}`, tp.Datacenters);
}
