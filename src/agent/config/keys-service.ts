// Key tables for service and check definitions inside agent config files (Consul's
// ServiceDefinition / CheckDefinition in agent/config/config.go). Both blocks are open:
// unknown keys inside them are kept as data rather than rejected.
import { block, listOf, mapOf, openBlock, type BlockSpec } from './keys-types.ts';

/** A `check { … }` / `checks = [ … ]` body. */
export const checkSpec: BlockSpec = openBlock({
  id: 'string', name: 'string', notes: 'string', service_id: 'string', token: 'string',
  status: 'string', args: 'strings', http: 'string', header: 'any', method: 'string',
  body: 'string', disable_redirects: 'bool', output_max_size: 'int', tcp: 'string',
  tcp_use_tls: 'bool', udp: 'string', interval: 'string', docker_container_id: 'string',
  shell: 'string', grpc: 'string', grpc_use_tls: 'bool', tls_server_name: 'string',
  tls_skip_verify: 'bool', alias_node: 'string', alias_service: 'string', timeout: 'string',
  ttl: 'string', h2ping: 'string', h2ping_use_tls: 'bool', os_service: 'string',
  success_before_passing: 'int', failures_before_warning: 'int',
  failures_before_critical: 'int', deregister_critical_service_after: 'string',
  namespace: 'string', partition: 'string',
});

const meshGateway = block({ mode: 'string' });

const upstream = openBlock({
  destination_type: 'string', destination_namespace: 'string',
  destination_partition: 'string', destination_peer: 'string', destination_name: 'string',
  datacenter: 'string', local_bind_address: 'string', local_bind_port: 'int',
  local_bind_socket_path: 'string', local_bind_socket_mode: 'string', config: 'any',
  mesh_gateway: meshGateway,
});

const proxy = openBlock({
  destination_service_name: 'string', destination_service_id: 'string',
  local_service_address: 'string', local_service_port: 'int',
  local_service_socket_path: 'string', mode: 'string',
  transparent_proxy: block({ outbound_listener_port: 'int', dialed_directly: 'bool' }),
  config: 'any', upstreams: listOf(upstream), mesh_gateway: meshGateway,
  expose: block({
    checks: 'bool', port: 'int',
    paths: listOf(block({ listener_port: 'int', path: 'string', protocol: 'string', local_path_port: 'int' })),
  }),
});

const serviceKeys: BlockSpec['$block'] = {
  kind: 'string', id: 'string', name: 'string', tags: 'strings', address: 'string',
  tagged_addresses: mapOf(block({ address: 'string', port: 'int' })), meta: 'map',
  port: 'int', socket_path: 'string', check: checkSpec, checks: listOf(checkSpec),
  token: 'string', weights: block({ passing: 'int', warning: 'int' }),
  enable_tag_override: 'bool', proxy, namespace: 'string', partition: 'string',
  locality: block({ region: 'string', zone: 'string' }),
};

/** A `service { … }` / `services = [ … ]` body, including `connect.sidecar_service`. */
export const serviceSpec: BlockSpec = openBlock(serviceKeys);
// The sidecar is itself a service definition, so the table refers to itself.
serviceKeys.connect = openBlock({ native: 'bool', sidecar_service: serviceSpec });
