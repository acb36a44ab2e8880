import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, ConfigError } from './index.ts';
import { fakeInterfaces, fixtureDir } from './test-fixtures.ts';
import { dnsConfigFrom } from '../../dns/config.ts';

const load = (args: string[], cwd?: string) => loadConfig({ args, cwd, hostname: 'host-a', interfaces: fakeInterfaces });

test('-dev gives Consul dev defaults and the memory store', async () => {
  const { config } = await load(['-dev']);
  assert.equal(config.dev, true);
  assert.equal(config.server, true);
  assert.equal(config.dataDir, null);
  assert.deepEqual(config.store, { backend: 'memory' });
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.uiEnabled, true);
  assert.equal(config.connect.enabled, true);
  assert.deepEqual(config.ports, { http: 8500, https: -1, dns: 8600, grpc: 8502, grpcTls: 8503, serfLan: 8301, serfWan: 8302, server: 8300 });
  assert.deepEqual(config.httpAddrs, [{ kind: 'tcp', host: '127.0.0.1', port: 8500 }]);
  assert.deepEqual(config.dnsAddrs, [{ kind: 'tcp', host: '127.0.0.1', port: 8600 }]);
  assert.equal(config.bindAddr, '127.0.0.1');
  assert.equal(config.nodeName, 'host-a');
  assert.match(config.nodeId, /^[0-9a-f-]{36}$/);
});

test('primary_datacenter unset is the agent\'s own datacenter (Consul\'s builder), set it is lowercased', async () => {
  assert.equal((await load(['-dev'])).config.primaryDatacenter, 'dc1');
  assert.equal((await load(['-dev', '-datacenter', 'East'])).config.primaryDatacenter, 'east');
  assert.equal((await load(['-dev', '-datacenter', 'east', '-hcl', 'primary_datacenter = "West"'])).config.primaryDatacenter, 'west');
});

test('partition: a client agent\'s admin partition, read without a warning; servers stay in default; names are DNS labels', async () => {
  const client = await load(['-dev', '-hcl', 'server = false\npartition = "team-1"']);
  assert.equal(client.config.partition, 'team-1');
  assert.ok(!client.warnings.some((w) => w.includes('partition')), client.warnings.join('\n'));
  assert.equal((await load(['-dev'])).config.partition, '');
  assert.equal((await load(['-dev', '-hcl', 'partition = "default"'])).config.partition, 'default');
  await assert.rejects(load(['-dev', '-hcl', 'partition = "team-1"']), { message: /servers must be in the "default" admin partition/ });
  await assert.rejects(load(['-dev', '-hcl', 'server = false\npartition = "bad_name"']), { message: /must be a valid DNS hostname label/ });
});

test('service and check definitions: namespace and partition names are DNS labels, the partition the agent\'s', async () => {
  const svc = (body: string, top = '') => load(['-dev', '-hcl', `${top}service {\n  name = "web"\n  ${body}\n}`]);
  const ok = await svc('namespace = "team-a"\n  partition = "default"\n  check { id = "c1"\n ttl = "10s"\n namespace = "team-a" }');
  assert.equal((ok.config.raw.services as { namespace: string }[])[0].namespace, 'team-a');
  await svc('namespace = "Team-A"');
  const fails: [string, string, string?][] = [
    ['namespace = "team_a"', 'service "web": namespace "team_a" must be a valid DNS hostname label'],
    ['namespace = "*"', 'service "web": namespace "*" must be a valid DNS hostname label'],
    ['partition = "bad name"', 'service "web": partition "bad name" must be a valid DNS hostname label'],
    ['partition = "team-1"', 'service "web": partition "team-1" is not the agent\'s partition "default"'],
    ['partition = "default"', 'service "web": partition "default" is not the agent\'s partition "team-1"', 'server = false\npartition = "team-1"\n'],
    ['checks = [{ id = "c1"\n ttl = "10s"\n namespace = "a.b" }]', 'service "web": check "c1": namespace "a.b" must be a valid DNS hostname label'],
    ['connect { sidecar_service { namespace = "-x" } }', 'service "web": sidecar_service: namespace "-x" must be a valid DNS hostname label'],
  ];
  for (const [body, message, top] of fails) {
    await assert.rejects(svc(body, top), (e: Error) => e instanceof ConfigError && e.message === message, body);
  }
  await svc('partition = "Team-1"', 'server = false\npartition = "team-1"\n');
  await assert.rejects(load(['-dev', '-hcl', 'check { id = "top"\n ttl = "10s"\n namespace = "x y" }']),
    { message: 'check "top": namespace "x y" must be a valid DNS hostname label' });
  await assert.rejects(load(['-dev', '-hcl', 'services = [{ name = "a" }, { name = "db"\n namespace = "n/s" }]']),
    { message: 'service "db": namespace "n/s" must be a valid DNS hostname label' });
  // JSON's CamelCase keys are read as the agent reads them.
  const dir = await fixtureDir({
    'camel.json': '{"service": {"Name": "api", "Namespace": "Bad_x"}}',
    'sidecar.json': '{"services": [{"Name": "api", "Connect": {"SidecarService": {"Partition": "ap9"}}}]}',
  });
  await assert.rejects(load(['-dev', '-config-file', join(dir, 'camel.json')]),
    { message: 'service "api": namespace "Bad_x" must be a valid DNS hostname label' });
  await assert.rejects(load(['-dev', '-config-file', join(dir, 'sidecar.json')]),
    { message: 'service "api": sidecar_service: partition "ap9" is not the agent\'s partition "default"' });
});

test('without -dev: data_dir is required, grpc is off, advertise is the private IP', async () => {
  await assert.rejects(load([]), (e: Error) => e instanceof ConfigError && e.message === 'data_dir cannot be empty');
  const dir = await fixtureDir();
  const { config } = await load(['-data-dir', dir]);
  assert.equal(config.ports.grpc, -1);
  assert.equal(config.ports.grpcTls, -1);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.advertiseAddr, '10.1.2.3');
  assert.equal(config.advertiseAddrWan, '10.1.2.3');
  assert.deepEqual(config.store, { backend: 'embedded' });
  // The generated node ID is persisted and reused.
  assert.equal((await readFile(join(dir, 'node-id'), 'utf8')).trim(), config.nodeId);
  assert.equal((await load(['-data-dir', dir])).config.nodeId, config.nodeId);
});

test('JSON and HCL files describe the same configuration', async () => {
  const json = JSON.stringify({
    datacenter: 'East-1', node_name: 'n1', ports: { http: 9500, dns: -1 }, node_meta: { rack: 'r1' },
    acl: { enabled: true, default_policy: 'deny', tokens: { agent: 'a1' } },
    service: { name: 'web', port: 80, check: { ttl: '10s' } },
    services: [{ name: 'db', tags: ['x'] }], retry_join: ['10.0.0.1'],
  });
  const hcl = `
datacenter = "East-1"
node_name = "n1"
ports { http = 9500
  dns = -1 }
node_meta { rack = "r1" }
acl { enabled = true
  default_policy = "deny"
  tokens { agent = "a1" } }
service { name = "web"
  port = 80
  check { ttl = "10s" } }
services = [{ name = "db", tags = ["x"] }]
retry_join = ["10.0.0.1"]
`;
  const dir = await fixtureDir({ 'a.json': json, 'b.hcl': hcl });
  const a = (await load(['-dev', '-config-file', join(dir, 'a.json')])).config;
  const b = (await load(['-dev', '-config-file', join(dir, 'b.hcl')])).config;
  assert.deepEqual(b.raw, a.raw);
  assert.equal(a.datacenter, 'east-1');
  assert.equal(a.ports.http, 9500);
  assert.deepEqual(a.dnsAddrs, []);
  assert.equal(a.acl.defaultPolicy, 'deny');
  assert.deepEqual((a.raw as { services: unknown }).services, [{ name: 'db', tags: ['x'] }, { name: 'web', port: 80, check: { ttl: '10s' } }]);
});

test('merge order: file, then directory alphabetically, then flags, then -hcl', async () => {
  const dir = await fixtureDir({
    'first.json': '{"node_name": "from-file", "log_level": "warn", "retry_join": ["a"], "node_meta": {"k1": "file"}}',
    'conf/20-b.hcl': 'node_name = "from-dir-b"\nretry_join = ["c"]\nnode_meta { k2 = "dir" }',
    'conf/10-a.json': '{"node_name": "from-dir-a", "datacenter": "dc-a", "retry_join": ["b"]}',
    'conf/notes.txt': 'ignored',
  });
  const { config, warnings } = await load(['-dev', '-config-file', 'first.json', '-config-dir', 'conf', '-retry-join', 'flag', '-datacenter', 'dc-flag', '-hcl', 'log_level = "error"'], dir);
  assert.equal(config.nodeName, 'from-dir-b');
  assert.equal(config.datacenter, 'dc-flag');
  assert.equal(config.logLevel, 'error');
  assert.deepEqual(config.nodeMeta, { k1: 'file', k2: 'dir' });
  // List flags are merged before the files (Consul's flags.slices), so they come first.
  assert.deepEqual((config.raw as { retry_join: string[] }).retry_join, ['flag', 'a', 'b', 'c']);
  assert.deepEqual(config.sources, [join(dir, 'first.json'), join(dir, 'conf/10-a.json'), join(dir, 'conf/20-b.hcl')]);
  assert.ok(warnings.includes(`skipping file ${join(dir, 'conf/notes.txt')}, extension must be .hcl or .json, or config format must be set`));
});

test('-config-dir and -config-file keep command-line order between them', async () => {
  const dir = await fixtureDir({ 'd/x.json': '{"node_name": "dir"}', 'f.json': '{"node_name": "file"}' });
  assert.equal((await load(['-dev', '-config-dir', 'd', '-config-file', 'f.json'], dir)).config.nodeName, 'file');
  assert.equal((await load(['-dev', '-config-file', 'f.json', '-config-dir', 'd'], dir)).config.nodeName, 'dir');
});

test('unknown keys are errors in Consul words, nested ones with their path', async () => {
  const dir = await fixtureDir({ 'bad.json': '{"foo": 1, "ports": {"htp": 1}}' });
  await assert.rejects(load(['-dev', '-config-file', join(dir, 'bad.json')]), {
    message: `failed to parse ${join(dir, 'bad.json')}: 2 errors occurred:\n\t* invalid config key foo\n\t* invalid config key ports.htp\n\n`,
  });
  await assert.rejects(load(['-dev', '-hcl', 'nope = true']), { message: 'failed to parse flags-0.hcl: 1 error occurred:\n\t* invalid config key nope\n\n' });
});

test('legacy names are mapped with deprecation warnings', async () => {
  const hcl = 'acl_master_token = "m"\nacl_agent_token = "ag"\nacl_token = "d"\nacl_datacenter = "DC0"\n' +
    'acl_default_policy = "deny"\nacl { tokens { agent_master = "rec" } }\nui = true\nverify_incoming = true\nstart_join = ["x"]';
  const { config, warnings } = await load(['-dev', '-hcl', hcl]);
  assert.equal(config.acl.tokens.initialManagement, 'm');
  assert.equal(config.acl.tokens.agent, 'ag');
  assert.equal(config.acl.tokens.default, 'd');
  assert.equal(config.acl.tokens.agentRecovery, 'rec');
  assert.equal(config.acl.enabled, true);
  assert.equal(config.acl.defaultPolicy, 'deny');
  assert.equal(config.primaryDatacenter, 'dc0');
  const raw = config.raw as Record<string, any>;
  assert.equal(raw.tls.defaults.verify_incoming, true);
  assert.equal(raw.tls.grpc.verify_incoming, false);
  assert.deepEqual(raw.retry_join, ['x']);
  assert.equal(raw.acl_master_token, undefined);
  for (const w of [
    "The 'acl_master_token' field is deprecated. Use the 'acl.tokens.initial_management' field instead.",
    "The 'acl.tokens.agent_master' field is deprecated. Use the 'acl.tokens.agent_recovery' field instead.",
    "The 'acl_datacenter' field is deprecated. Use the 'primary_datacenter' field instead.",
    "The 'ui' field is deprecated. Use the 'ui_config.enabled' field instead.",
    "The 'verify_incoming' field is deprecated. Use the 'tls.defaults.verify_incoming' field instead.",
  ]) assert.ok(warnings.includes(w), w);
});

test('ports set to -1 disable listeners; out-of-range ports are errors', async () => {
  const { config } = await load(['-dev', '-hcl', 'ports { http = -1\n dns = -1 }']);
  assert.deepEqual(config.httpAddrs, []);
  assert.deepEqual(config.dnsAddrs, []);
  assert.equal(config.ports.http, -1);
  await assert.rejects(load(['-dev', '-http-port', '70000']), { message: '1 error occurred:\n\t* ports.http: invalid port: 70000\n\n' });
});

test('-dns-port and addresses.dns place the DNS listeners (UDP and TCP share them)', async () => {
  assert.deepEqual((await load(['-dev', '-dns-port', '8653'])).config.dnsAddrs, [{ kind: 'tcp', host: '127.0.0.1', port: 8653 }]);
  assert.equal((await load(['-dev', '-dns-port', '8653'])).config.ports.dns, 8653);
  const { config } = await load(['-dev', '-hcl', 'addresses { dns = "127.0.0.2 [::1]" }\nports { dns = 8654 }']);
  assert.deepEqual(config.dnsAddrs, [{ kind: 'tcp', host: '127.0.0.2', port: 8654 }, { kind: 'tcp', host: '::1', port: 8654 }]);
  assert.deepEqual(config.httpAddrs, [{ kind: 'tcp', host: '127.0.0.1', port: 8500 }], 'addresses.dns moves only DNS');
  assert.deepEqual((await load(['-dev', '-dns-port', '-1'])).config.dnsAddrs, []);
});

test('recursors: go-sockaddr templates expand (to several addresses too), the any address and negative DNS limits are errors', async () => {
  const { config } = await load(['-dev', '-hcl', 'recursors = ["127.0.0.53", "{{ GetInterfaceIP \\"eth0\\" }}:5353", "[::1]:54"]', '-recursor', '127.0.0.9']);
  // Flags come before -hcl fragments, as Consul merges its sources.
  assert.deepEqual(config.recursors, ['127.0.0.9', '127.0.0.53', '10.1.2.3:5353', '[::1]:54']);
  assert.deepEqual(dnsConfigFrom(config).recursors, [{ host: '127.0.0.9', port: 53 }, { host: '127.0.0.53', port: 53 }, { host: '10.1.2.3', port: 5353 }, { host: '::1', port: 54 }]);
  for (const any of ['0.0.0.0', '::', '[::]']) {
    await assert.rejects(load(['-dev', '-hcl', `recursors = ["${any}"]`]), { message: 'DNS recursor address cannot be 0.0.0.0, :: or [::]' });
  }
  await assert.rejects(load(['-dev', '-hcl', 'dns_config { udp_answer_limit = -1 }']), { message: 'dns_config.udp_answer_limit cannot be -1. Must be greater than or equal to zero' });
  await assert.rejects(load(['-dev', '-hcl', 'dns_config { a_record_limit = -2 }']), { message: 'dns_config.a_record_limit cannot be -2. Must be greater than or equal to zero' });
});

test('unix sockets and multiple client addresses resolve to listeners', async () => {
  const hcl = 'client_addr = "127.0.0.1 {{ GetInterfaceIP \\"eth0\\" }}"\naddresses { http = "unix:///tmp/pc.sock" }\nunix_sockets { mode = "0700" }';
  const { config } = await load(['-dev', '-hcl', hcl]);
  assert.deepEqual(config.clientAddrs, ['127.0.0.1', '10.1.2.3']);
  assert.deepEqual(config.httpAddrs, [{ kind: 'unix', path: '/tmp/pc.sock', mode: '0700' }]);
  assert.deepEqual(config.dnsAddrs, [{ kind: 'tcp', host: '127.0.0.1', port: 8600 }, { kind: 'tcp', host: '10.1.2.3', port: 8600 }]);
  await assert.rejects(load(['-dev', '-hcl', 'addresses { dns = "unix:///tmp/d.sock" }']), { message: 'DNS address cannot be a unix socket' });
  await assert.rejects(load(['-dev', '-client', '{{ GetAllInterfaces }}']), /client_addr: error parsing .*unsupported go-sockaddr template/);
});

test('accepted but unimplemented keys warn with their name', async () => {
  const { warnings } = await load(['-dev', '-hcl', 'server_name = "consul.example"\nauto_reload_config = true\nenable_syslog = true\nports { http = 8501 }']);
  assert.ok(warnings.includes('"server_name" is not implemented by Proconsul and will have no effect'));
  assert.ok(!warnings.some((w) => w.includes('auto_reload_config')));
  assert.ok(!warnings.some((w) => w.includes('enable_syslog')));
  assert.ok(!warnings.some((w) => w.includes('ports.http')));
  const dns = await load(['-dev', '-hcl', 'dns_config { use_cache = true cache_max_age = "5s" allow_stale = false node_ttl = "3s" soa { min_ttl = 5 } prefer_namespace = true }']);
  assert.deepEqual(dns.warnings, []);
  const acted = await load(['-dev', '-hcl', 'disable_remote_exec = false\nenable_central_service_config = false\nhttp_config { block_endpoints = ["/v1/acl", "/v1/kv/secret"] }']);
  assert.deepEqual(acted.warnings, []);
  assert.deepEqual(acted.config.http.blockEndpoints, ['/v1/acl', '/v1/kv/secret']);
});

test('Consul validation errors for common mistakes', async () => {
  const dir = await fixtureDir();
  const cases: [string[], string | RegExp][] = [
    [['-data-dir', dir, '-bootstrap'], "'bootstrap = true' requires 'server = true'"],
    [['-data-dir', dir, '-server', '-bootstrap', '-bootstrap-expect', '3'], "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive"],
    [['-dev', '-bootstrap-expect', '3'], "'bootstrap_expect > 0' not allowed in dev mode"],
    [['-dev', '-datacenter', 'dc 1'], 'datacenter can only contain lowercase alphanumeric, - or _ characters. received: "dc 1"'],
    [['-dev', '-hcl', 'session_ttl_min = "abc"'], '1 error occurred:\n\t* session_ttl_min: invalid duration: "abc": time: invalid duration "abc"\n\n'],
    [['-dev', '-hcl', 'ports { http = "x" }'], /'ports.http' expected type 'int', got unconvertible type 'string'/],
    [['-dev', '-log-level', 'loud'], /Invalid log level: "loud"/],
    [['-dev', '-hcl', 'log_sublevels { "agent.http" = "chatty" }'], /Invalid log level: "chatty"/],
    [['-dev', '-store', 'etcd://'], /store: invalid value/],
  ];
  for (const [args, msg] of cases) await assert.rejects(load(args), typeof msg === 'string' ? { message: msg } : msg);
});

test('flags map onto config keys, including -node-meta and durations', async () => {
  const { config } = await load(['-dev', '-node', 'n9', '-node-meta', 'a:b', '-node-meta', 'c:d:e', '-default-query-time', '1m', '-store', 'etcd://h1:2379,h2:2379']);
  assert.equal(config.nodeName, 'n9');
  assert.deepEqual(config.nodeMeta, { a: 'b', c: 'd:e' });
  assert.equal(config.defaultQueryTime, 60_000);
  assert.deepEqual(config.store, { backend: 'etcd', etcd: { endpoints: ['http://h1:2379', 'http://h2:2379'] } });
});

test('translate_wan_addrs is off by default and implemented when set', async () => {
  assert.equal((await load(['-dev'])).config.translateWanAddrs, false);
  const { config, warnings } = await load(['-dev', '-hcl', 'translate_wan_addrs = true']);
  assert.equal(config.translateWanAddrs, true);
  assert.ok(!warnings.some((w) => w.includes('translate_wan_addrs')), warnings.join('\n'));
});

test('discovery_max_stale: off by default, read as a duration, no warning', async () => {
  assert.equal((await load(['-dev'])).config.discoveryMaxStale, 0);
  const { config, warnings } = await load(['-dev', '-hcl', 'discovery_max_stale = "3s"']);
  assert.equal(config.discoveryMaxStale, 3_000);
  assert.deepEqual(warnings.filter((w) => w.includes('discovery_max_stale')), []);
});

test('locality and auto_reload_config are read; the config paths are kept resolved for the watcher', async () => {
  const dir = await fixtureDir({ 'a.hcl': 'locality { region = "us-east-1" zone = "us-east-1a" }\nauto_reload_config = true' });
  const { config, warnings } = await load(['-dev', '-config-dir', '.'], dir);
  assert.deepEqual(config.locality, { Region: 'us-east-1', Zone: 'us-east-1a' });
  assert.equal(config.autoReloadConfig, true);
  assert.deepEqual(config.configPaths, [dir]);
  assert.deepEqual(warnings.filter((w) => /locality|auto_reload/.test(w)), []);
  const regionOnly = await load(['-dev', '-hcl', 'locality { region = "eu-west-1" }']);
  assert.deepEqual(regionOnly.config.locality, { Region: 'eu-west-1' });
  assert.equal(regionOnly.config.autoReloadConfig, false);
  assert.equal((await load(['-dev'])).config.locality, undefined);
  await assert.rejects(load(['-dev', '-hcl', 'locality { region = 5 }']), /locality\.region/);
});
