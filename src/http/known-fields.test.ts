// Unknown body keys refused as Go's DisallowUnknownFields refuses them, level by level as Consul's structs decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refuseUnknownFields, refuseUnknownInList, struct } from './known-fields.ts';
import {
  ACL_TOKEN, AUTOPILOT_CONFIGURATION, CHECK_DEFINITION, COORDINATE_UPDATE, DEREGISTER_REQUEST, REGISTER_REQUEST, SERVICE_DEFINITION, TXN_OP,
} from './request-fields.ts';

const unknown = (key: string, prefix = 'Request decode failed') => ({ name: 'BadRequestError', message: `${prefix}: json: unknown field ${JSON.stringify(key)}` });

test('a key matches its field in any case; the first key no field takes is named as sent', () => {
  const s = struct(['Name', 'ServiceID', 'service_id']);
  refuseUnknownFields({ name: 'a', SERVICEID: 'x', Service_Id: 'y' }, s);
  assert.throws(() => refuseUnknownFields({ Name: 'a', Bogus: 1, Other: 2 }, s), unknown('Bogus'));
  // service_id is a json tag, serviceid the field: an underscore is not folded away.
  assert.throws(() => refuseUnknownFields({ servicE_iD_: 1 }, s), unknown('servicE_iD_'));
  assert.throws(() => refuseUnknownFields({ __proto__x: 1 }, s), unknown('__proto__x'));
  assert.throws(() => refuseUnknownFields({ X: 1 }, s, 'Token decoding failed'), unknown('X', 'Token decoding failed'));
});

test('nested structs, lists and maps of them are walked depth first in body order; wrong types are left to the type check', () => {
  const inner = struct(['A']);
  const s = struct(['One', 'List', 'Map', 'Free'], { One: inner, List: ['list', inner], Map: ['map', inner] });
  refuseUnknownFields({ One: null, List: 'x', Map: [1], Free: { anything: 1 } }, s);
  assert.throws(() => refuseUnknownFields({ List: [{ A: 1 }, { B: 1 }], One: { C: 1 } }, s), unknown('B'));
  assert.throws(() => refuseUnknownFields({ Map: { k: { A: 1, D: 2 } } }, s), unknown('D'));
  assert.throws(() => refuseUnknownInList([{ One: {} }, { Nope: 1 }], s), unknown('Nope'));
});

test('a lenient struct ignores its own unknown keys but still walks the strict ones it holds', () => {
  // structs.ServiceConnect decodes with json.Unmarshal; its SidecarService is a strict ServiceDefinition.
  refuseUnknownFields({ Name: 'web', Connect: { Native: false, Whatever: 1, SidecarService: { Port: 1 } } }, SERVICE_DEFINITION);
  assert.throws(() => refuseUnknownFields({ Name: 'web', Connect: { sidecar_service: { Bogus: 1 } } }, SERVICE_DEFINITION), unknown('Bogus'));
});

test('service definitions: CheckType takes CheckID (not ID), snake tags only where Consul declares them', () => {
  refuseUnknownFields({
    name: 'web', enable_tag_override: true, tagged_addresses: { lan: { address: '10.0.0.1', port: 1 } }, weights: { passing: 2 },
    check: { args: ['x'], interval: '1s', docker_container_id: 'c', CheckID: 'k' }, checks: [{ ttl: '5s', service_id: 's' }],
    proxy: { destination_service_name: 'db', upstreams: [{ destination_name: 'x', local_bind_port: 1 }] }, Namespace: 'ns',
  }, SERVICE_DEFINITION);
  assert.throws(() => refuseUnknownFields({ Name: 'web', Check: { ID: 'c', TTL: '1s' } }, SERVICE_DEFINITION), unknown('ID'));
  assert.throws(() => refuseUnknownFields({ Name: 'web', Checks: [{ TTL: '5s' }, { script: 'x' }] }, SERVICE_DEFINITION), unknown('script'));
  assert.throws(() => refuseUnknownFields({ Name: 'web', socket_path: '/x' }, SERVICE_DEFINITION), unknown('socket_path'));
  assert.throws(() => refuseUnknownFields({ Name: 'web', TaggedAddresses: { lan: { Addr: 'x' } } }, SERVICE_DEFINITION), unknown('Addr'));
  assert.throws(() => refuseUnknownFields({ Name: 'web', Proxy: { Upstreams: [{ IngressHosts: [] }] } }, SERVICE_DEFINITION), unknown('IngressHosts'));
  // A check definition is named by ID; CheckID is none of its fields.
  refuseUnknownFields({ ID: 'c', Name: 'c', TTL: '1s', Token: 't', disable_redirects: true }, CHECK_DEFINITION);
  assert.throws(() => refuseUnknownFields({ CheckID: 'c', TTL: '1s' }, CHECK_DEFINITION), unknown('CheckID'));
});

test('catalog bodies: node, service and checks strict, a check Definition lenient, deregister allows the obsolete Address', () => {
  refuseUnknownFields({ Node: 'n', Check: { CheckID: 'c', Definition: { HTTP: 'x', Anything: 1 } } }, REGISTER_REQUEST);
  refuseUnknownFields({ Node: 'n', Checks: [{ Definition: { Bogus: 1 } }] }, REGISTER_REQUEST);
  assert.throws(() => refuseUnknownFields({ Node: 'n', Service: { Service: 's', Name: 's' } }, REGISTER_REQUEST), unknown('Name'));
  assert.throws(() => refuseUnknownFields({ Node: 'n', Checks: [{ CheckID: 'a', Bogus: 1 }] }, REGISTER_REQUEST), unknown('Bogus'));
  assert.throws(() => refuseUnknownFields({ Node: 'n', WriteRequest: { Token: 't' } }, REGISTER_REQUEST), unknown('WriteRequest'));
  refuseUnknownFields({ Node: 'n', Address: '10.0.0.1', ServiceID: 's' }, DEREGISTER_REQUEST);
});

test('other strict bodies: ACL links, coordinates, autopilot, txn operations', () => {
  assert.throws(() => refuseUnknownFields({ Policies: [{ ID: 'x', Rules: '' }] }, ACL_TOKEN, 'Token decoding failed'), unknown('Rules', 'Token decoding failed'));
  refuseUnknownFields({ TemplatedPolicies: [{ TemplateID: 'i', TemplateName: 'builtin/service', TemplateVariables: { Name: 'api' } }] }, ACL_TOKEN);
  assert.throws(() => refuseUnknownFields({ TemplatedPolicies: [{ TemplateVariables: { Name: 'api', Other: 1 } }] }, ACL_TOKEN), unknown('Other'));
  assert.throws(() => refuseUnknownFields({ Node: 'n', Coord: { Vec: [0], Bogus: 1 } }, COORDINATE_UPDATE), unknown('Bogus'));
  assert.throws(() => refuseUnknownFields({ CleanupDeadServers: true, Foo: 1 }, AUTOPILOT_CONFIGURATION), unknown('Foo'));
  assert.throws(() => refuseUnknownInList([{ KV: { Verb: 'get', Key: 'k', Bogus: 1 } }], TXN_OP), unknown('Bogus'));
  refuseUnknownInList([{ KV: { verb: 'set', key: 'k', value: '' } }, { Node: { Verb: 'get', Node: { Node: 'n', Anything: 1 } } }], TXN_OP);
});
