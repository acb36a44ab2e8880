// `proconsul connect redirect-traffic` for real: the rules applied with the iptables binary in a
// network namespace this test creates (-netns), read back with iptables-save from that namespace,
// ports taken from flags or from the proxy's registration on a dev agent. The host's own rules are
// never touched. Skipped only when a network namespace cannot be created here.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentServicesApi, type AgentServiceRegistration } from '../src/api/agent-services.ts';
import { configFromFlags, connectRedirectTrafficCommand } from '../src/cli/connect-redirect-traffic.ts';
import { parseFlags } from '../src/cli/flags.ts';
import { cliAgent } from './support/cli.ts';

const dev = cliAgent();
const { cli } = dev;
const prefix = `pc-rt-${process.pid}`;
const created: string[] = [];
let seq = 0;

const canCreate = ((): string | null => {
  try {
    execFileSync('ip', ['netns', 'add', `${prefix}-probe`], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', `${prefix}-probe`], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot create a network namespace here (ip netns add failed: ${(err as Error).message.split('\n')[0]})`;
  }
})();

/** A fresh network namespace; its path for -netns. */
function netns(): { name: string; path: string } {
  const name = `${prefix}-${seq++}`;
  execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  created.push(name);
  return { name, path: `/var/run/netns/${name}` };
}

after(() => {
  for (const n of created) execFileSync('ip', ['netns', 'del', n], { stdio: 'pipe' });
});

/** The nat table's chain declarations and rules in the namespace, counters and comments dropped. */
function natRules(name: string): string[] {
  const save = execFileSync('ip', ['netns', 'exec', name, 'iptables-save', '-t', 'nat'], { encoding: 'utf8' });
  return save.split('\n').filter((l) => l.startsWith('-A') || l.startsWith(':')).map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
}

const hostNat = (): string => execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).split('\n').filter((l) => !l.startsWith('#')).join('\n');

const CHAINS = [
  ':PREROUTING ACCEPT', ':INPUT ACCEPT', ':OUTPUT ACCEPT', ':POSTROUTING ACCEPT',
  ':CONSUL_DNS_REDIRECT -', ':CONSUL_PROXY_INBOUND -', ':CONSUL_PROXY_IN_REDIRECT -', ':CONSUL_PROXY_OUTPUT -', ':CONSUL_PROXY_REDIRECT -',
];

test('rules from flags land in the namespace, in Consul\'s order', { skip: canCreate ?? false }, async () => {
  const hostBefore = hostNat();
  const ns = netns();
  const res = await cli([
    'connect', 'redirect-traffic', '-proxy-uid=1234', '-proxy-inbound-port=20000', '-proxy-outbound-port=15002', '-consul-dns-port=8600',
    '-exclude-inbound-port=22', '-exclude-inbound-port=8081', '-exclude-outbound-port=5432', '-exclude-outbound-cidr=10.0.0.0/8', '-exclude-uid=5',
    `-netns=${ns.path}`,
  ]);
  assert.deepEqual(res, { code: 0, out: '    Successfully applied traffic redirection rules\n', err: '' });
  assert.deepEqual(natRules(ns.name).sort(), [...CHAINS,
    '-A PREROUTING -p tcp -j CONSUL_PROXY_INBOUND',
    '-A OUTPUT -d 127.0.0.1/32 -p udp -m udp --dport 53 -j CONSUL_DNS_REDIRECT',
    '-A OUTPUT -d 127.0.0.1/32 -p tcp -m tcp --dport 53 -j CONSUL_DNS_REDIRECT',
    '-A OUTPUT -p tcp -j CONSUL_PROXY_OUTPUT',
    '-A CONSUL_DNS_REDIRECT -d 127.0.0.1/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.1:8600',
    '-A CONSUL_DNS_REDIRECT -d 127.0.0.1/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.1:8600',
    '-A CONSUL_PROXY_INBOUND -p tcp -m tcp --dport 8081 -j RETURN',
    '-A CONSUL_PROXY_INBOUND -p tcp -m tcp --dport 22 -j RETURN',
    '-A CONSUL_PROXY_INBOUND -p tcp -j CONSUL_PROXY_IN_REDIRECT',
    '-A CONSUL_PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports 20000',
    '-A CONSUL_PROXY_OUTPUT -m owner --uid-owner 5 -j RETURN',
    '-A CONSUL_PROXY_OUTPUT -d 10.0.0.0/8 -j RETURN',
    '-A CONSUL_PROXY_OUTPUT -p tcp -m tcp --dport 5432 -j RETURN',
    '-A CONSUL_PROXY_OUTPUT -m owner --uid-owner 1234 -j RETURN',
    '-A CONSUL_PROXY_OUTPUT -d 127.0.0.1/32 -j RETURN',
    '-A CONSUL_PROXY_OUTPUT -j CONSUL_PROXY_REDIRECT',
    '-A CONSUL_PROXY_REDIRECT -p tcp -j REDIRECT --to-ports 15002',
  ].sort());
  // Order within each chain is what iptables evaluates: inserted exclusions come first, newest first.
  const outputChain = natRules(ns.name).filter((l) => l.startsWith('-A CONSUL_PROXY_OUTPUT '));
  assert.deepEqual(outputChain.map((l) => l.slice('-A CONSUL_PROXY_OUTPUT '.length)), [
    '-m owner --uid-owner 5 -j RETURN', '-d 10.0.0.0/8 -j RETURN', '-p tcp -m tcp --dport 5432 -j RETURN',
    '-m owner --uid-owner 1234 -j RETURN', '-d 127.0.0.1/32 -j RETURN', '-j CONSUL_PROXY_REDIRECT',
  ]);
  assert.equal(hostNat(), hostBefore);
});

test('-proxy-id takes the ports and exclusions from the proxy\'s registration (agent, then catalog with -node-name)', { skip: canCreate ?? false }, async () => {
  const agent = new AgentServicesApi(dev.client);
  await agent.serviceRegister({
    Name: 'web-sidecar-proxy', ID: 'web-sidecar-proxy', Kind: 'connect-proxy', Port: 21000,
    Proxy: {
      DestinationServiceName: 'web', TransparentProxy: { OutboundListenerPort: 15005 },
      Config: { bind_port: '21001', envoy_prometheus_bind_addr: '0.0.0.0:9102', envoy_stats_bind_addr: '127.0.0.1:9103' },
      Expose: { Paths: [{ Path: '/health', LocalPathPort: 8080, ListenerPort: 21500 }] },
    },
  });
  const inbound = (name: string) => natRules(name).filter((l) => l.startsWith('-A CONSUL_PROXY_INBOUND ') || l.includes('REDIRECT --to-ports'));
  const expected = [
    '-A CONSUL_PROXY_INBOUND -p tcp -m tcp --dport 22 -j RETURN',
    '-A CONSUL_PROXY_INBOUND -p tcp -m tcp --dport 21500 -j RETURN',
    '-A CONSUL_PROXY_INBOUND -p tcp -m tcp --dport 9103 -j RETURN',
    '-A CONSUL_PROXY_INBOUND -p tcp -m tcp --dport 9102 -j RETURN',
    '-A CONSUL_PROXY_INBOUND -p tcp -j CONSUL_PROXY_IN_REDIRECT',
    '-A CONSUL_PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports 21001',
    '-A CONSUL_PROXY_REDIRECT -p tcp -j REDIRECT --to-ports 15005',
  ];
  const a = netns();
  assert.deepEqual(await cli(['connect', 'redirect-traffic', '-proxy-uid=1234', '-proxy-id=web-sidecar-proxy', '-exclude-inbound-port=22', `-netns=${a.path}`]), {
    code: 0, out: '    Successfully applied traffic redirection rules\n', err: '',
  });
  assert.deepEqual(inbound(a.name), expected);
  const b = netns();
  const node = await agent.nodeName();
  assert.deepEqual(await cli(['connect', 'redirect-traffic', '-proxy-uid=1234', '-proxy-id=web-sidecar-proxy', `-node-name=${node}`, '-exclude-inbound-port=22', `-netns=${b.path}`]), {
    code: 0, out: '    Successfully applied traffic redirection rules\n', err: '',
  });
  assert.deepEqual(inbound(b.name), expected);
});

test('a failing iptables run stops with Consul\'s error (chains already there)', { skip: canCreate ?? false }, async () => {
  const ns = netns();
  const args = ['connect', 'redirect-traffic', '-proxy-uid=1234', '-proxy-inbound-port=20000', `-netns=${ns.path}`];
  assert.equal((await cli(args)).code, 0);
  const before = natRules(ns.name);
  const res = await cli(args);
  assert.equal(res.code, 1);
  assert.equal(res.out, '');
  assert.match(res.err, new RegExp(`^==> Error setting up traffic redirection rules: failed to run command: \\S*nsenter --net=${ns.path} -- iptables -t nat -N CONSUL_PROXY_INBOUND, err: exit status 1, output: iptables: Chain already exists.\\n`));
  assert.deepEqual(natRules(ns.name), before);
});

test('flag and registration errors read as Consul\'s (nothing run)', async () => {
  const run = (...a: string[]) => cli(['connect', 'redirect-traffic', ...a]);
  assert.deepEqual(await run('-proxy-inbound-port=1'), { code: 1, out: '', err: '==> -proxy-uid is required\n' });
  assert.deepEqual(await run('-proxy-uid=1'), { code: 1, out: '', err: '==> either -proxy-id or -proxy-inbound-port are required\n' });
  const both = "==> -proxy-inbound-port or -proxy-outbound-port cannot be provided together with -proxy-id. Proxy's inbound and outbound ports are retrieved from the proxy's configuration instead.\n";
  assert.deepEqual(await run('-proxy-uid=1', '-proxy-id=x', '-proxy-outbound-port=1'), { code: 1, out: '', err: both });
  assert.deepEqual(await run('-proxy-uid=1', '-proxy-id=x', '-proxy-inbound-port=1'), { code: 1, out: '', err: both });
  const missing = await run('-proxy-uid=1', '-proxy-id=nope', '-netns=/nonexistent');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /^==> Failed to create configuration to apply traffic redirection rules: failed to fetch proxy service from Consul Agent: Unexpected response code: 404 \(.*\)\n$/);
  await new AgentServicesApi(dev.client).serviceRegister({ Name: 'plain', ID: 'plain', Port: 80 });
  assert.deepEqual(await run('-proxy-uid=1', '-proxy-id=plain', '-netns=/nonexistent'), {
    code: 1, out: '', err: '==> Failed to create configuration to apply traffic redirection rules: service plain is not a proxy service\n',
  });
  const node = await new AgentServicesApi(dev.client).nodeName();
  assert.deepEqual(await run('-proxy-uid=1', '-proxy-id=nope', `-node-name=${node}`), {
    code: 1, out: '', err: '==> Failed to create configuration to apply traffic redirection rules: proxy service with ID "nope" not found\n',
  });
  const bad = await run('-bogus');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /==> Failed to parse args: flag provided but not defined: -bogus\n$/);
});

/** The configuration the command derives for `args` (Consul's generateConfigFromFlags), nothing applied. */
async function derive(args: string[]) {
  return configFromFlags(parseFlags(connectRedirectTrafficCommand.flags, args), { env: dev.env, stdout() {}, stderr() {}, stdin: process.stdin });
}

const proxy = (id: string, proxyFields: Record<string, unknown>): AgentServiceRegistration => ({
  Kind: 'connect-proxy', ID: id, Name: 'test-proxy', Port: 20000, Address: '1.1.1.1', Proxy: { DestinationServiceName: 'foo', ...proxyFields },
});

test('the configuration from a registration, as Consul\'s generateConfigFromFlags cases', async () => {
  const agent = new AgentServicesApi(dev.client);
  const cases: [string, Record<string, unknown>, Partial<Awaited<ReturnType<typeof derive>>> | string][] = [
    ['plain', {}, { proxyInboundPort: 20000, proxyOutboundPort: 15001, excludeInboundPorts: [] }],
    ['bind-int', { Config: { bind_port: 21000 } }, { proxyInboundPort: 21000 }],
    ['bind-string', { Config: { bind_port: '21000' } }, { proxyInboundPort: 21000 }],
    ['bind-invalid', { Config: { bind_port: 'invalid' } }, "failed parsing Proxy.Config: 1 error(s) decoding:\n\n* cannot parse 'bind_port' as int: strconv.ParseInt: parsing \"invalid\": invalid syntax"],
    ['outbound', { TransparentProxy: { OutboundListenerPort: 21000 } }, { proxyOutboundPort: 21000 }],
    ['prom', { Config: { envoy_prometheus_bind_addr: '0.0.0.0:9000' } }, { excludeInboundPorts: ['9000'] }],
    ['prom-bad', { Config: { envoy_prometheus_bind_addr: '9000' } }, 'failed parsing host and port from envoy_prometheus_bind_addr: address 9000: missing port in address'],
    ['stats', { Config: { envoy_stats_bind_addr: '0.0.0.0:8000' } }, { excludeInboundPorts: ['8000'] }],
    ['stats-bad', { Config: { envoy_stats_bind_addr: '8000' } }, 'failed parsing host and port from envoy_stats_bind_addr: address 8000: missing port in address'],
    ['paths', { Expose: { Paths: [{ ListenerPort: 23000, LocalPathPort: 8080, Path: '/health' }] } }, { excludeInboundPorts: ['23000'] }],
  ];
  for (const [id, fields, want] of cases) {
    await agent.serviceRegister(proxy(id, fields));
    const got = derive(['-proxy-uid=1234', `-proxy-id=${id}`, '-consul-dns-ip=10.0.34.16']);
    if (typeof want === 'string') {
      await assert.rejects(got, { message: want }, id);
      continue;
    }
    const cfg = await got;
    assert.equal(cfg.consulDNSIP, '10.0.34.16', id);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(cfg[k as keyof typeof cfg], v, `${id}: ${k}`);
  }
});

test('Expose.Checks: the exposed ports of the destination\'s checks are excluded (agent answers stubbed)', async () => {
  // Proconsul's agent does not allocate checks' ExposedPort yet, so a stub agent answers with them.
  let filter: string | null = null;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('Content-Type', 'application/json');
    if (url.pathname === '/v1/agent/service/checks-proxy') {
      res.end(JSON.stringify({ ID: 'checks-proxy', Kind: 'connect-proxy', Port: 20000, Proxy: { DestinationServiceName: 'foo', Expose: { Checks: true } } }));
    } else if (url.pathname === '/v1/agent/checks') {
      filter = url.searchParams.get('filter');
      res.end(JSON.stringify({ a: { CheckID: 'a', ExposedPort: 21500 }, b: { CheckID: 'b', ExposedPort: 21501 }, c: { CheckID: 'c', ExposedPort: 0 } }));
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cfg = await configFromFlags(parseFlags(connectRedirectTrafficCommand.flags, ['-proxy-uid=1234', '-proxy-id=checks-proxy', `-http-addr=${addr}`]), {
      env: {}, stdout() {}, stderr() {}, stdin: process.stdin,
    });
    assert.equal(filter, 'ServiceName == "foo"');
    assert.deepEqual(cfg.excludeInboundPorts, ['21500', '21501']);
  } finally {
    server.close();
  }
});
