// The real Python clients against a real agent over HTTP: Debian's python3-consul (python-consul
// 0.7.1) and python3-consul2 (python-consul2 0.1.5; the packages conflict, so .ci/run unpacks this
// one under /opt and it is put on PYTHONPATH). test/fixtures/python-consul/scenarios.py calls each
// client the way users do and prints what it got; these tests assert those values.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { RuntimeConfig } from '../src/index.ts';
import { devConfig, startDevAgent } from './support/agent.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(import.meta.dirname, 'fixtures', 'python-consul', 'scenarios.py');
const CONSUL1 = '/usr/lib/python3/dist-packages/consul/__init__.py';
const CONSUL2 = process.env.PYTHON_CONSUL2_PATH ?? '/opt/python3-consul2/usr/lib/python3/dist-packages';

type Out = Record<string, any>;
interface Client { name: string; version: string; pythonPath: string }

const CLIENTS: Client[] = [
  { name: 'python-consul', version: '0.7.1', pythonPath: '' },
  { name: 'python-consul2', version: '0.1.5', pythonPath: CONSUL2 },
];

/** Runs one scenario area of the fixture with a client against `addr`; the JSON it printed. */
function scenario(client: Client, addr: string, area: string, token?: string): Promise<Out> {
  const [host, port] = addr.split(':');
  // The clients read CONSUL_HTTP_ADDR/TOKEN/SSL from the environment before their arguments.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, PYTHONPATH: client.pythonPath, PYTHONDONTWRITEBYTECODE: '1' };
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, host, port, area, ...(token ? [token] : [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${client.name} ${area} exited ${code}:\n${stderr}${stdout}`));
      const out = JSON.parse(stdout) as Out;
      assert.equal(out.version, client.version, `${client.name} on the path is not the expected version`);
      resolve(out);
    });
  });
}

/** ACLs on, default deny, `root` the initial management token. */
const ACL_DENY: RuntimeConfig['acl'] = { ...devConfig().acl, enabled: true, defaultPolicy: 'deny', tokens: { ...devConfig().acl.tokens, initialManagement: 'root' } };

/** A raised client exception as the fixture records it. */
const raised = (error: string, message: string | RegExp) => (v: Out) => {
  assert.equal(v?.error, error, JSON.stringify(v));
  if (typeof message === 'string') assert.equal(v.message, message);
  else assert.match(v.message, message);
};

/** Consul's event index: the XOR of the event UUID's two 64-bit halves. */
function eventIndex(id: string): string {
  const hex = id.replaceAll('-', '');
  return (BigInt(`0x${hex.slice(0, 16)}`) ^ BigInt(`0x${hex.slice(16)}`)).toString();
}

test('both Python clients are installed (.ci/run installs python3-consul and unpacks python3-consul2)', () => {
  assert.ok(fs.existsSync(PYTHON), 'no /usr/bin/python3');
  assert.ok(fs.existsSync(CONSUL1), 'apt-get install python3-consul (.ci/run does)');
  assert.ok(fs.existsSync(path.join(CONSUL2, 'consul', 'base.py')), `python3-consul2 is not unpacked at ${CONSUL2} (.ci/run does)`);
});

/** One scenario area: its test title, what the agent needs, and what the client must have seen. */
interface Area {
  title: string;
  area: string;
  /** Run on an agent with ACLs on (default deny) with `root` as the client's token. */
  acl?: boolean;
  /** Only python-consul2 has the API (0.7.1 has no Txn, and only the legacy ACL API, gone since Consul 1.11). */
  modernOnly?: boolean;
  check(o: Out, legacy: boolean): void;
}

const AREAS: Area[] = [
  {
    title: 'kv: put/get, flags, binary and null values, recurse, keys with separator, cas, delete cas/recurse',
    area: 'kv',
    check(o) {
      assert.equal(o.put, true);
      const [index, pair] = o.get;
      assert.deepEqual({ ...pair, CreateIndex: 0, ModifyIndex: 0 }, { LockIndex: 0, Key: 'py/a', Flags: 0, Value: 'hello', CreateIndex: 0, ModifyIndex: 0 });
      assert.equal(index, String(pair.ModifyIndex), 'a single key\'s X-Consul-Index is its ModifyIndex');
      assert.equal(o.get_flags, 42);
      assert.equal(o.get_binary, 'AP9iaW4=');
      assert.equal(o.get_none, null);
      assert.equal(o.missing[1], null);
      assert.match(o.missing[0], /^[1-9]\d*$/, 'a missing key still carries X-Consul-Index');
      assert.deepEqual(o.recurse, [['py/tree/x', 'x'], ['py/tree/y/z', 'z']]);
      assert.deepEqual(o.keys, ['py/tree/x', 'py/tree/y/z', 'py/treeish']);
      assert.deepEqual(o.keys_separator, ['py/tree/x', 'py/tree/y/']);
      assert.equal(o.recurse_empty[1], null, 'an empty prefix is a 404 the client reads as None');
      assert.deepEqual([o.cas_create_existing, o.cas_create_new, o.cas_stale, o.cas_ok, o.cas_value], [false, true, false, true, 'two']);
      assert.deepEqual([o.delete_cas_stale, o.delete_cas_ok, o.after_delete_cas], [false, true, null]);
      assert.deepEqual([o.delete_recurse, o.after_delete_recurse], [true, ['py/treeish']]);
    },
  },
  {
    title: 'kv blocking: a watch wakes on its key only, times out with the same index, fractional wait, new key, prefix',
    area: 'kv_blocking',
    check(o) {
      assert.deepEqual([o.wake.value, o.wake.index_advanced, o.wake.index_is_modify], ['v2', true, true]);
      assert.ok(o.wake.seconds >= 0.5 && o.wake.seconds < 4.5, `woke after ${o.wake.seconds}s: the unrelated write must not wake it`);
      assert.equal(o.timeout.same_index, true);
      assert.ok(o.timeout.seconds >= 0.45 && o.timeout.seconds < 4.5, `wait=0.5s took ${o.timeout.seconds}s`);
      assert.equal(o.fraction.same_index, true);
      assert.ok(o.fraction.seconds >= 0.25 && o.fraction.seconds < 4.5, `wait=0.3013…s took ${o.fraction.seconds}s`);
      assert.deepEqual([o.created.was, o.created.value], [null, 'new']);
      assert.ok(o.created.seconds >= 0.3 && o.created.seconds < 4.5, `creation woke after ${o.created.seconds}s`);
      assert.deepEqual(o.recurse.keys, ['py/rec/a', 'py/rec/b']);
      assert.ok(o.recurse.seconds >= 0.3 && o.recurse.seconds < 4.5, `prefix watch woke after ${o.recurse.seconds}s`);
    },
  },
  {
    title: 'sessions: defaults, no checks, ttl/delete/lock-delay, renew, locks acquire/release, destroy',
    area: 'sessions',
    check(o) {
      assert.deepEqual({ ...o.info, ID: '', CreateIndex: 0, ModifyIndex: 0 }, {
        ID: '', Name: 'py-lock', Node: 'test-node', LockDelay: 15e9, Behavior: 'release', TTL: '', NodeChecks: ['serfHealth'],
        ServiceChecks: null, Namespace: 'default', CreateIndex: 0, ModifyIndex: 0,
      });
      assert.equal(o.info.ID, o.create);
      assert.deepEqual([o.info_no_checks.NodeChecks, o.info_no_checks.LockDelay], [null, 0], 'checks=[] means none');
      assert.deepEqual([o.info_ttl.TTL, o.info_ttl.Behavior, o.info_ttl.LockDelay], ['10s', 'delete', 1e9]);
      assert.deepEqual([o.renew.ID, o.renew.TTL], [o.create_ttl, '10s']);
      assert.deepEqual([o.list, o.node], [true, 3]);
      assert.deepEqual([o.acquire, o.acquire_other], [true, false]);
      assert.deepEqual(o.held, { Session: o.create, LockIndex: 1, Value: 'me' });
      assert.deepEqual([o.release_other, o.release, o.released], [false, true, null]);
      raised('ConsulException', '500 invalid session "00000000-0000-0000-0000-000000000001"')(o.acquire_unknown);
      assert.deepEqual([o.acquire_ttl, o.destroy_ttl, o.ephemeral_after], [true, true, null], 'behavior delete removes the held key');
      assert.deepEqual([o.acquire_again, o.destroy, o.lock_after_destroy, o.info_destroyed], [true, true, null, null]);
      raised('NotFound', `Session id '${o.create}' not found`)(o.renew_destroyed);
    },
  },
  {
    title: 'agent: self, members, service with a TTL check and pass/warn/fail, check register, HTTP check, maintenance, deregister',
    area: 'agent',
    check(o, legacy) {
      assert.deepEqual(o.self, { NodeName: 'test-node', Datacenter: 'dc1', Server: true, Addr: '127.0.0.1' });
      assert.deepEqual(o.members, [['test-node', 1]]);
      assert.equal(o.register_ttl, true);
      assert.deepEqual(o.service, { ID: 'py-web-1', Service: 'py-web', Address: '10.0.0.7', Port: 8080, Tags: ['a', 'b'] });
      assert.deepEqual([o.check_initial, o.passing_initial], ['critical', []]);
      if (legacy) {
        // 0.7.1 sends GET for check pass/warn/fail and (de)register calls; Consul 1.0+ allows only PUT
        // there and answers 405, which this client reports as False. Real Consul behaves the same.
        assert.deepEqual([o.ttl_pass, o.ttl_warn, o.ttl_fail, o.check_deregister, o.deregister], [false, false, false, false, false]);
        assert.deepEqual(o.raw_get_pass, [405, 'OPTIONS,PUT'], 'Consul answers a wrong method 405 with its Allow list');
        assert.deepEqual(o.status_after_pass, ['critical', '']);
        assert.equal(o.check_after, true);
        assert.deepEqual(o.services_after, ['py-api-1', 'py-web-1']);
      } else {
        assert.deepEqual([o.ttl_pass, o.ttl_warn, o.ttl_fail], [true, true, true]);
        assert.deepEqual([o.status_after_pass, o.status_after_warn, o.status_after_fail], [['passing', 'note pass'], ['warning', 'note warn'], ['critical', 'note fail']]);
        assert.deepEqual(o.passing, ['py-web-1']);
        assert.deepEqual([o.check_deregister, o.check_after, o.deregister, o.services_after], [true, false, true, ['py-api-1']]);
      }
      assert.deepEqual(o.check_registered, { Name: 'py-mem', Notes: 'memory', Status: 'critical' });
      assert.equal(o.http_status, 'passing', 'the HTTP check against /v1/status/leader passes');
      assert.deepEqual([o.maintenance, o.maintenance_check, o.maintenance_off], [true, 'py', true]);
    },
  },
  {
    title: 'catalog and health: register with CamelCase and lowercase service dicts, nodes, services, service, node, deregister',
    area: 'catalog',
    check(o) {
      assert.deepEqual([o.register, o.register_lower, o.datacenters], [true, true, ['dc1']]);
      assert.deepEqual(o.nodes, [['py-ext', '10.1.2.3'], ['py-ext2', '10.1.2.4']]);
      assert.deepEqual(o.services, { 'ext-cache': ['x'], 'ext-db': ['primary'] });
      assert.deepEqual(o.service, [{ Node: 'py-ext', Address: '10.1.2.3', ServiceID: 'ext-db-1', ServiceName: 'ext-db', ServicePort: 5432, ServiceTags: ['primary'] }]);
      assert.deepEqual([o.service_tag, o.service_lower, o.node, o.node_missing], [0, [['ext-cache', 6379]], ['ext-db-1'], null]);
      assert.deepEqual(o.health_passing, ['py-ext']);
      assert.deepEqual(o.health_checks, [['service:ext-db-1', 'passing']]);
      assert.deepEqual([o.health_state, o.health_node], [['service:ext-db-1'], ['service:ext-db-1']]);
      assert.deepEqual([o.deregister_service, o.service_after, o.deregister_node, o.deregister_node2, o.nodes_after], [true, [], true, true, []]);
    },
  },
  {
    title: 'events: fire returns the event, list by name with Consul\'s index, blocking list wakes on the next one',
    area: 'events',
    check(o, legacy) {
      assert.deepEqual({ ...o.fire, ID: '' }, { ID: '', Name: 'py-deploy', Payload: 'djE=', NodeFilter: '', ServiceFilter: '', TagFilter: '', Version: 1, LTime: 0 });
      const [index, events] = o.list;
      assert.deepEqual(events.map((e: Out) => [e.ID, e.Name]), [[o.fired_id, 'py-deploy']]);
      // python-consul decodes Payload; python-consul2 asks to decode the key `True` and leaves it base64.
      assert.equal(events[0].Payload, legacy ? 'v1' : 'djE=');
      assert.equal(index, eventIndex(o.fired_id));
      assert.equal(o.blocking.count, 2);
      assert.ok(o.blocking.seconds >= 0.3 && o.blocking.seconds < 4.5, `woke after ${o.blocking.seconds}s`);
    },
  },
  {
    title: 'status, raft, coordinates, prepared queries',
    area: 'misc',
    check(o) {
      assert.deepEqual([o.leader, o.peers, o.raft, o.coordinate_dcs], ['127.0.0.1:8300', ['127.0.0.1:8300'], [true], ['dc1']]);
      assert.match(o.query_create.ID, /^[0-9a-f-]{36}$/);
      assert.deepEqual([o.query_execute, o.query_get, o.query_list, o.query_delete], [['py-q-1'], ['py-query'], ['py-query'], true]);
    },
  },
  {
    title: 'edge cases: odd key names, consistency modes, dc, boolean maintenance flags, filters, query templates',
    area: 'edges',
    check(o, legacy) {
      for (const key of ['py/sp ace', 'py/ü', 'py/per%cent', 'py/q?x#y', 'py/a+b']) assert.deepEqual(o[`key ${key}`], [true, key, 1], key);
      assert.deepEqual([o.consistent, o.stale, o.dc], ['py/sp ace', 'py/sp ace', 'py/sp ace']);
      raised('ConsulException', '500 No path to datacenter')(o.dc_unknown);
      assert.deepEqual(o.members_wan, ['dc1']);
      assert.deepEqual([o.node_maintenance_on, o.node_maintenance_check, o.node_maintenance_off, o.node_maintenance_after], [true, 'py reason', true, false]);
      assert.deepEqual([o.service_maintenance_on, o.service_maintenance_status, o.service_maintenance_off, o.service_maintenance_after], [true, 'critical', true, false]);
      assert.deepEqual([o.health_tag, o.catalog_near, o.session_node], [['py-m-1'], true, true]);
      raised('ConsulException', '500 Missing node registration')(o.session_bad_node);
      assert.deepEqual(o.event_filters, { NodeFilter: 'vm.*', ServiceFilter: 'py-m', TagFilter: 'blue' });
      assert.deepEqual(o.query_template_execute, ['py-m-1']);
      assert.deepEqual(o.query_template_get, { Template: { Type: 'name_prefix_match', Regexp: '^py-(.*)$', RemoveEmptyTags: false }, DNS: { TTL: '5s' } });
      assert.deepEqual([o.query_update, o.query_updated_execute, o.query_explain, o.coordinate_nodes], [true, [], 'py-m', true]);
      if (legacy) {
        // GET join/force-leave: 405 from Consul 1.0+ (PUT only), False to this client.
        assert.deepEqual([o.join_self, o.force_leave_unknown], [false, false]);
      } else {
        raised('ConsulException', "500 agent: No node found with name 'py-nobody'")(o.force_leave_unknown);
      }
    },
  },
  {
    title: 'check kinds and registration errors: tcp, http, grpc, script spellings, docker, unknown IDs, node meta',
    area: 'checks',
    check(o, legacy) {
      assert.deepEqual([o.tcp, o.tcp_check], [true, { Type: 'tcp', Interval: '1s', Timeout: '1s', Status: 'passing' }]);
      assert.deepEqual([o.http, o.http_check], [true, { Type: 'http', Interval: '10s', Timeout: '1s' }]);
      // The single-string `script` key left Consul in 1.1 and its decoder refuses unknown fields.
      const unknownScript = raised('BadRequest', '400 Request decode failed: json: unknown field "script"');
      if (legacy) unknownScript(o.script);
      else raised('ConsulException', "500 Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true")(o.script);
      unknownScript(o.docker);
      unknownScript(o.compat_script);
      assert.deepEqual([o.compat_ttl, o.compat_ttl_check, o.compat_http], [true, 'ttl', true]);
      assert.deepEqual([o.check_for_service, o.check_service_id, o.check_unknown_service], [true, 'p-h', false]);
      assert.deepEqual(o.tag_override, [true, true]);
      raised('BadRequest', '400 Missing service name')(o.no_name);
      assert.deepEqual([o.ttl_unknown, o.deregister_unknown, o.session_unknown], [false, false, null]);
      // An unknown prepared query is a 404 without X-Consul-Index; 0.7.1 indexes the header and raises.
      if (legacy) raised('KeyError', "'x-consul-index'")(o.query_unknown);
      else assert.deepEqual(o.query_unknown, [null, null]);
      assert.deepEqual([o.flags_max, o.events_none], [[true, '18446744073709551615'], ['1', []]]);
      if (!legacy) {
        assert.deepEqual([o.grpc, o.grpc_check], [true, { Type: 'grpc', Interval: '10s' }]);
        assert.deepEqual([o.meta, o.node_meta, o.nodes_meta, o.services_meta, o.health_meta], [[true, { a: 'b' }], true, ['p-node'], { 'p-ms': [] }, ['p-node']]);
        assert.deepEqual(o.skip_node_update, [true, '10.9.9.9'], 'skipnodeupdate keeps the node\'s address');
      }
    },
  },
  {
    title: 'a client token (python-consul: ?token=, python-consul2: X-Consul-Token) on an agent with ACLs on, default deny',
    area: 'token', acl: true,
    check(o, legacy) {
      assert.deepEqual([o.kv_put, o.kv_get, o.service, o.event, o.health], [true, 'x', true, 't-ev', ['t-svc']]);
      raised('ACLPermissionDenied', "Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission 'key:read' on \"t/a\"")(o.kv_anonymous);
      assert.deepEqual(o.service_anonymous, [], 'the anonymous token sees no services');
      // python-consul 0.7.1's agent.services() sends no token at all, so it is anonymous too.
      assert.deepEqual(o.services, legacy ? [] : ['t-svc']);
      if (legacy) {
        // 0.7.1 puts its token in catalog bodies as `WriteRequest: {Token}`, a key Consul's decoder refuses.
        const unknown = raised('BadRequest', '400 Request decode failed: json: unknown field "WriteRequest"');
        unknown(o.catalog_register);
        unknown(o.catalog_deregister);
        assert.deepEqual(o.catalog_nodes, ['test-node']);
      } else {
        assert.deepEqual([o.catalog_register, o.catalog_deregister, o.catalog_nodes], [true, true, ['test-node']]);
      }
    },
  },
  {
    title: 'txn: sets and a get in one transaction; a failed cas is a 409 with the op\'s error and changes nothing',
    area: 'txn', modernOnly: true,
    check(o) {
      assert.deepEqual(o.ok.Results.map((r: Out) => [r.KV.Key, r.KV.Flags, r.KV.Value]), [['py/txn/a', 0, null], ['py/txn/b', 7, null], ['py/txn/a', 0, 'MQ==']]);
      assert.equal(o.ok.Errors, null);
      raised('ClientError', /^409 /)(o.failed);
      assert.deepEqual(JSON.parse(o.failed.message.slice(4)), { Results: null, Errors: [{ OpIndex: 0, What: 'failed to set key "py/txn/a", index is stale' }] });
      assert.deepEqual(o.after, ['py/txn/a', 'py/txn/b']);
    },
  },
  {
    title: 'connect and operator: config entries, CA, intentions, authorize, autopilot, raft, keyring, snapshot restore',
    area: 'connect', modernOnly: true,
    check(o) {
      assert.deepEqual([o.config_put, o.config_get, o.config_list, o.config_missing[1], o.config_delete],
        [true, { Kind: 'service-defaults', Name: 'py-web', Protocol: 'http' }, ['py-web'], null, true]);
      assert.deepEqual([o.ca_roots, o.ca_config, o.agent_roots], [[[true, true]], 'consul', 1]);
      assert.deepEqual(o.intention_get, { SourceName: 'py-a', DestinationName: 'py-b', Action: 'deny', Description: 'py' });
      assert.deepEqual([o.intention_list, o.intention_check, o.intention_match], [[['py-a', 'deny']], { Allowed: false }, ['py-a']]);
      assert.deepEqual([o.intention_put, o.intention_check_after, o.authorize.Authorized, o.intention_delete], [true, { Allowed: true }, true, true]);
      assert.match(o.authorize.Reason, /^Matched L4 intention: py-a => py-b/);
      assert.deepEqual([o.autopilot, o.autopilot_update, o.autopilot_after, o.autopilot_health, o.raft], [true, true, false, true, [true]]);
      raised('ConsulException', /^500 /)(o.keyring);
      assert.deepEqual([o.snapshot_bytes, o.snapshot_restore, o.snapshot_value], [true, '', 'before']);
    },
  },
  {
    title: 'acl (default deny): token self, policies, tokens create/get/list/update/clone/delete, enforcement',
    area: 'acl', acl: true, modernOnly: true,
    check(o) {
      assert.equal(o.self, 'global-management');
      assert.deepEqual([o.policy_create.Name, o.policy_create.Rules, o.policy_get_name], ['py-pol', 'key_prefix "py/" { policy = "write" }', true]);
      assert.ok(o.policy_list.includes('py-pol') && o.policy_list.includes('global-management'), o.policy_list.join());
      assert.equal(o.policy_update, 'py2');
      assert.deepEqual(o.token_create.Policies, [{ ID: o.policy_create.ID, Name: 'py-pol' }]);
      assert.deepEqual([o.user_put, o.user_self, o.token_get, o.token_list, o.token_update], [true, 'py token', 'py token', true, 'renamed']);
      raised('ACLPermissionDenied', `Permission denied: token with AccessorID '${o.token_create.AccessorID}' lacks permission 'key:write' on "other/key"`)(o.user_put_denied);
      assert.deepEqual([o.token_clone.Description, o.clone_policies, o.token_delete], ['copy', ['py-pol'], true]);
      raised('ACLPermissionDenied', 'ACL not found')(o.user_put_deleted);
      assert.equal(o.policy_delete, true);
      raised('ACLPermissionDenied', /lacks permission 'key:read' on "py\/allowed"$/)(o.anonymous);
    },
  },
];

/**
 * Runs an area's scenario with a client on a fresh agent: what one area leaves behind (0.7.1 cannot
 * deregister its critical checks, and a critical node check hides the node from prepared queries)
 * stays out of the next.
 */
async function run(client: Client, a: Area): Promise<Out> {
  const dev = await startDevAgent({ config: a.acl ? { acl: ACL_DENY } : {} });
  try {
    return await scenario(client, dev.httpAddr, a.area, a.acl ? 'root' : undefined);
  } finally {
    await dev.stop();
  }
}

// Both clients at once, three areas of each at a time: most of an area's time is the scenario
// waiting on blocking queries and check intervals.
describe('python clients', { concurrency: 2 }, () => {
  for (const client of CLIENTS) {
    const legacy = client.version === '0.7.1';
    describe(client.name, { concurrency: 3 }, () => {
      for (const a of AREAS) if (!(a.modernOnly && legacy)) test(a.title, async () => a.check(await run(client, a), legacy));
    });
  }
});
