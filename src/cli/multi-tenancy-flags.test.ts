// -namespace / -partition (Consul's MultiTenancyFlags and PartitionFlag) against a recording HTTP
// server on loopback: which commands take them, flag > CONSUL_NAMESPACE/CONSUL_PARTITION, the
// values sent as ?ns= / ?partition=, nothing sent by default, and definition files' own
// Namespace/Partition carried in the body (services register, config write, services deregister).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryIO } from './io.ts';
import { COMMANDS, runCli } from './registry.ts';
import { MULTI_TENANCY_FLAGS } from './http-flag-defs.ts';
import { ConsulClient } from '../api/index.ts';
import { tmpDir } from '../test-tmp-dir.ts';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}

const UUID = '00000000-0000-4000-8000-000000000001';
const dir = tmpDir('proconsul-tenancy-');
const bearer = join(dir, 'bearer');
writeFileSync(bearer, 'jwt\n');

/** Commands taking both flags, with arguments that get them as far as their first request. */
const MULTI: string[][] = [
  ['acl', 'token', 'list'], ['acl', 'token', 'read', '-id', UUID], ['acl', 'token', 'create', '-policy-id', UUID],
  ['acl', 'token', 'update', '-id', UUID, '-description', 'd'], ['acl', 'token', 'clone', '-id', UUID],
  ['acl', 'token', 'delete', '-id', UUID],
  ['acl', 'policy', 'list'], ['acl', 'policy', 'read', '-id', UUID], ['acl', 'policy', 'create', '-name', 'p'],
  ['acl', 'policy', 'update', '-id', UUID, '-description', 'd'], ['acl', 'policy', 'delete', '-id', UUID],
  ['acl', 'role', 'list'], ['acl', 'role', 'read', '-id', UUID], ['acl', 'role', 'create', '-name', 'r', '-policy-id', UUID],
  ['acl', 'role', 'update', '-id', UUID, '-description', 'd'], ['acl', 'role', 'delete', '-id', UUID],
  ['acl', 'auth-method', 'list'], ['acl', 'auth-method', 'read', '-name', 'm'],
  ['acl', 'auth-method', 'create', '-type', 'jwt', '-name', 'm', '-config', '{}'],
  ['acl', 'auth-method', 'update', '-name', 'm', '-description', 'd'], ['acl', 'auth-method', 'delete', '-name', 'm'],
  ['acl', 'binding-rule', 'list'], ['acl', 'binding-rule', 'read', '-id', UUID],
  ['acl', 'binding-rule', 'create', '-method', 'm', '-bind-type', 'service', '-bind-name', 'web'],
  ['acl', 'binding-rule', 'update', '-id', UUID, '-description', 'd'], ['acl', 'binding-rule', 'delete', '-id', UUID],
  ['acl', 'explain', '-resource', 'key:k'],
  ['login', '-method', 'm', '-bearer-token-file', bearer, '-token-sink-file', join(dir, 'sink')],
  ['catalog', 'services'],
  ['config', 'list', '-kind', 'service-defaults'], ['config', 'read', '-kind', 'service-defaults', '-name', 'web'],
  ['config', 'delete', '-kind', 'service-defaults', '-name', 'web'],
  ['intention', 'check', 'web', 'db'], ['intention', 'create', 'web', 'db'], ['intention', 'delete', 'web', 'db'],
  ['intention', 'get', 'web', 'db'], ['intention', 'list'], ['intention', 'match', 'web'],
  ['services', 'register', '-name', 'web'], ['services', 'deregister', '-id', 'web'],
  ['services', 'export', '-name', 'web', '-consumer-peers', 'p'],
  ['kv', 'get', 'k'], ['kv', 'put', 'k', 'v'], ['kv', 'delete', 'k'], ['kv', 'export'], ['kv', 'import', '[{"key":"k","flags":0,"value":"dg=="}]'],
];

/** Commands taking only -partition. */
const PARTITION_ONLY: string[][] = [
  ['catalog', 'nodes'], ['peering', 'list'], ['peering', 'read', '-name', 'p'], ['peering', 'delete', '-name', 'p'],
  ['peering', 'generate-token', '-name', 'p'], ['peering', 'establish', '-name', 'p', '-peering-token', 'e30='],
  ['peering', 'exported-services', '-name', 'p'], ['services', 'exported-services'],
  ['members'], ['join', '10.0.0.1'], ['force-leave', 'n1'],
];

/** Commands where Consul has neither flag (CONSUL_NAMESPACE still reaches their requests). */
const NEITHER: [command: string[], args: string[]][] = [
  [['acl', 'bootstrap'], []], [['acl', 'set-agent-token'], ['default', 'x']], [['logout'], []],
  [['watch'], ['-type', 'services']], [['catalog', 'datacenters'], []], [['snapshot', 'save'], [join(dir, 'snap')]], [['rtt'], ['n1']],
];

/** Names of commands with both flags that MULTI lists (config write is tested with its file). */
const FLAGGED_ELSEWHERE = new Set(['config write', 'connect envoy', 'connect redirect-traffic']);

describe('multi-tenancy flags', () => {
  let server: http.Server;
  let addr = '';
  let seen: Seen[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, body: Buffer.concat(chunks).toString('utf8') });
        // Every call is refused: commands stop after their first request with an error.
        res.writeHead(403).end('Permission denied');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const run = async (argv: string[], env: NodeJS.ProcessEnv = {}, stdin?: string): Promise<{ code: number; err: string; seen: Seen[] }> => {
    seen = [];
    const io = memoryIO({ env: { CONSUL_HTTP_ADDR: addr, ...env }, stdin });
    let code: number;
    try {
      code = await runCli(argv, io);
    } catch {
      // A command the refusal made throw still sent its request, which is what is checked.
      code = -1;
    }
    return { code, err: io.err, seen };
  };

  /** argv with `flags` inserted after the command's words (Go's flag parsing stops at the first argument). */
  const withFlags = (argv: string[], ...flags: string[]): string[] => {
    for (let n = 3; n > 0; n--) {
      if (COMMANDS.some((c) => c.name === argv.slice(0, n).join(' '))) return [...argv.slice(0, n), ...flags, ...argv.slice(n)];
    }
    throw new Error(`no command in ${argv.join(' ')}`);
  };

  const params = (s: Seen[]) => s.map((r) => ({ ns: r.query.getAll('ns'), partition: r.query.getAll('partition') }));

  test('every command with the flags sends them as ?ns= and ?partition= on each request', async () => {
    for (const argv of MULTI) {
      const r = await run(withFlags(argv, '-namespace', 'team-a', '-partition', 'ap1'));
      assert.ok(r.seen.length > 0, `${argv.join(' ')} sent nothing: ${r.err}`);
      for (const p of params(r.seen)) assert.deepEqual(p, { ns: ['team-a'], partition: ['ap1'] }, argv.join(' '));
    }
    for (const argv of PARTITION_ONLY) {
      const r = await run(withFlags(argv, '-partition', 'ap1'));
      assert.ok(r.seen.length > 0, `${argv.join(' ')} sent nothing: ${r.err}`);
      for (const p of params(r.seen)) assert.deepEqual(p, { ns: [], partition: ['ap1'] }, argv.join(' '));
      const ns = await run(withFlags(argv, '-namespace', 'team-a'));
      assert.deepEqual([ns.code, ns.err.split('\n')[0], ns.seen.length], [1, 'flag provided but not defined: -namespace', 0], argv.join(' '));
    }
  });

  test('the registry gives the flags to exactly these commands, with Consul\'s help text', async () => {
    const tested = new Set([...MULTI, ...PARTITION_ONLY].map((a) => a.filter((w) => !w.startsWith('-')).slice(0, 3).join(' ')));
    for (const entry of COMMANDS) {
      const cmd = await entry.load();
      const ns = cmd.flags.find((f) => f.name === 'namespace');
      const ap = cmd.flags.find((f) => f.name === 'partition');
      if (!ns && !ap) continue;
      // The namespace commands' -partition and the two connect commands' pair are their own.
      if (cmd.name.startsWith('namespace ') || FLAGGED_ELSEWHERE.has(cmd.name)) continue;
      assert.ok([...tested].some((t) => t.startsWith(cmd.name)), `${cmd.name} takes the flags but is not checked here`);
      if (ns) assert.equal(ns.usage, MULTI_TENANCY_FLAGS[0].usage, cmd.name);
      if (ap) assert.equal(ap.usage, MULTI_TENANCY_FLAGS[1].usage, cmd.name);
    }
    for (const [cmd, args] of NEITHER) {
      const r = await run([...cmd, '-namespace', 'x', ...args]);
      assert.equal(r.err.split('\n')[0], 'flag provided but not defined: -namespace', cmd.join(' '));
    }
  });

  test('a flag wins over CONSUL_NAMESPACE / CONSUL_PARTITION; with neither nothing is sent', async () => {
    const env = { CONSUL_NAMESPACE: 'env-ns', CONSUL_PARTITION: 'env-ap' };
    assert.deepEqual(params((await run(['catalog', 'services'])).seen), [{ ns: [], partition: [] }]);
    assert.ok(!(await run(['kv', 'get', 'k'])).seen[0].query.toString().includes('ns'), 'a default request is unchanged');
    assert.deepEqual(params((await run(['catalog', 'services'], env)).seen), [{ ns: ['env-ns'], partition: ['env-ap'] }]);
    assert.deepEqual(params((await run(['catalog', 'services', '-namespace=flag-ns'], env)).seen), [{ ns: ['flag-ns'], partition: ['env-ap'] }]);
    assert.deepEqual(params((await run(['catalog', 'services', '-partition=flag-ap'], env)).seen), [{ ns: ['env-ns'], partition: ['flag-ap'] }]);
    // Go's HTTPFlags.MergeOntoConfig: a given empty flag replaces the variable.
    assert.deepEqual(params((await run(['catalog', 'services', '-namespace='], env)).seen), [{ ns: [], partition: ['env-ap'] }]);
    // Commands without the flags still honour the variables (Go's api.DefaultConfig reads them).
    for (const [cmd, args] of NEITHER) {
      const r = await run([...cmd, ...args], env);
      assert.ok(r.seen.length > 0, `${cmd.join(' ')} sent nothing: ${r.err}`);
      assert.deepEqual(params(r.seen)[0], { ns: ['env-ns'], partition: ['env-ap'] }, cmd.join(' '));
    }
    assert.deepEqual(params((await run(['lock', '-timeout=1s', 'pfx', 'true'], env)).seen)[0], { ns: ['env-ns'], partition: ['env-ap'] });
  });

  test('services register: a file\'s Namespace/Partition go in the body, the flags in the query', async () => {
    const file = join(dir, 'web.hcl');
    writeFileSync(file, 'service {\n  name = "web"\n  namespace = "file-ns"\n  partition = "file-ap"\n}\n');
    const r = await run(['services', 'register', '-namespace', 'flag-ns', file]);
    assert.deepEqual([r.seen[0].method, r.seen[0].path], ['PUT', '/v1/agent/service/register']);
    assert.deepEqual(params(r.seen), [{ ns: ['flag-ns'], partition: [] }]);
    const body = JSON.parse(r.seen[0].body);
    assert.deepEqual([body.Name, body.Namespace, body.Partition], ['web', 'file-ns', 'file-ap']);
    const plain = await run(['services', 'register', '-name', 'web']);
    assert.ok(!('Namespace' in JSON.parse(plain.seen[0].body)), 'flags alone put no tenancy in the body');

    // Deregistering with the same file asks in the flags' tenancy, not the file's (Consul's
    // deregister.go calls plain ServiceDeregister(id)), and says "deregistering" when refused.
    const d = await run(['services', 'deregister', '-namespace', 'flag-ns', '-partition', 'flag-ap', file]);
    assert.deepEqual([d.seen[0].path, ...Object.values(params(d.seen)[0])], ['/v1/agent/service/deregister/web', ['flag-ns'], ['flag-ap']]);
    assert.match(d.err, /^Error deregistering service "web": /);
    const bare = await run(['services', 'deregister', file]);
    assert.deepEqual(params(bare.seen), [{ ns: [], partition: [] }]);
    const json = join(dir, 'db.json');
    writeFileSync(json, JSON.stringify({ service: { name: 'db' } }));
    assert.deepEqual(params((await run(['services', 'deregister', '-namespace', 'flag-ns', json])).seen), [{ ns: ['flag-ns'], partition: [] }]);
  });

  test('peering generate-token/establish: -partition also in the body (not CONSUL_PARTITION)', async () => {
    const gen = await run(['peering', 'generate-token', '-partition', 'ap1', '-name', 'west']);
    assert.deepEqual(JSON.parse(gen.seen[0].body), { PeerName: 'west', Partition: 'ap1' });
    const est = await run(['peering', 'establish', '-partition', 'ap1', '-name', 'west', '-peering-token', 'e30=']);
    assert.deepEqual(Object.keys(JSON.parse(est.seen[0].body)), ['PeerName', 'PeeringToken', 'Partition']);
    const env = await run(['peering', 'generate-token', '-name', 'west'], { CONSUL_PARTITION: 'env-ap' });
    assert.deepEqual([JSON.parse(env.seen[0].body), params(env.seen)[0].partition], [{ PeerName: 'west' }, ['env-ap']]);
  });

  test('config write: the entry\'s own Namespace/Partition travel in the body beside the flags', async () => {
    const r = await run(['config', 'write', '-namespace', 'flag-ns', '-'], {},
      'Kind = "service-defaults"\nName = "web"\nNamespace = "file-ns"\nProtocol = "http"\n');
    assert.deepEqual([r.seen[0].method, r.seen[0].path], ['PUT', '/v1/config']);
    assert.deepEqual(params(r.seen), [{ ns: ['flag-ns'], partition: [] }]);
    assert.equal(JSON.parse(r.seen[0].body).Namespace, 'file-ns');
    const env = await run(['config', 'write', '-'], { CONSUL_PARTITION: 'env-ap' }, '{"Kind": "proxy-defaults", "Name": "global"}');
    assert.deepEqual(params(env.seen), [{ ns: [], partition: ['env-ap'] }]);
  });
});

test('API client: a call\'s namespace/partition replace the client\'s; empty ones keep them', async () => {
  const seen: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    seen.push(new URL(req.url ?? '/', 'http://x').searchParams);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const plain = new ConsulClient({ address, env: {} });
    await plain.catalog.services();
    await plain.catalog.services({ namespace: 'call-ns', partition: 'call-ap' });
    plain.close();
    const tenant = new ConsulClient({ address, namespace: 'client-ns', partition: 'client-ap', env: { CONSUL_NAMESPACE: 'env-ns' } });
    await tenant.catalog.services();
    await tenant.catalog.services({ namespace: 'call-ns' });
    await tenant.catalog.services({ namespace: '', partition: 'call-ap' });
    await tenant.kv.put('k', 'v', { namespace: 'call-ns' });
    tenant.close();
    const fromEnv = new ConsulClient({ address, env: { CONSUL_NAMESPACE: 'env-ns', CONSUL_PARTITION: 'env-ap' } });
    await fromEnv.catalog.services();
    fromEnv.close();
  } finally {
    server.close();
  }
  assert.deepEqual(seen.map((q) => [q.get('ns'), q.get('partition')]), [
    [null, null], ['call-ns', 'call-ap'],
    ['client-ns', 'client-ap'], ['call-ns', 'client-ap'], ['client-ns', 'call-ap'], ['call-ns', 'client-ap'],
    ['env-ns', 'env-ap'],
  ]);
});
