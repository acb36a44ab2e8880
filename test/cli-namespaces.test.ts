// CLI commands in a namespace against an in-process agent (Consul Enterprise's -namespace /
// -partition and CONSUL_NAMESPACE): namespace management, config entries, intentions, the catalog
// and ACL objects land in and are read from the namespace the flag (else the variable, else a
// definition file's own Namespace) names, and the default namespace does not see them; the API
// client's Lock and Semaphore hold their keys and sessions in their namespace option.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAclAgent, httpCaller, ROOT, type HttpCall } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { ConsulClient } from '../src/api/index.ts';

describe('CLI in namespaces', () => {
  let dev: DevAgent;
  let call: HttpCall;
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-cli-ns-'));
  const cli = async (argv: string[], env: NodeJS.ProcessEnv = {}, stdin?: string) => {
    const io = memoryIO({ env: { CONSUL_HTTP_ADDR: dev.httpAddr, CONSUL_HTTP_TOKEN: ROOT, ...env }, stdin });
    const code = await runCli(argv, io);
    return { code, out: io.out, err: io.err };
  };

  before(async () => {
    dev = await startAclAgent();
    call = httpCaller(() => dev.httpAddr);
    for (const name of ['team-a', 'team-b']) {
      const r = await cli(['namespace', 'create', '-name', name]);
      assert.equal(r.code, 0, r.err);
    }
  });
  after(() => dev.stop());

  test('namespace commands list and read what namespace create made', async () => {
    const list = await cli(['namespace', 'list', '-format=json']);
    assert.deepEqual(JSON.parse(list.out).map((n: { Name: string }) => n.Name), ['default', 'team-a', 'team-b']);
    assert.equal(JSON.parse((await cli(['namespace', 'read', '-format=json', '-partition=default', 'team-a'])).out).Name, 'team-a');
  });

  test('config write/read/list/delete: -namespace, CONSUL_NAMESPACE and the file\'s Namespace', async () => {
    assert.deepEqual(await cli(['config', 'write', '-namespace', 'team-a', '-'], {}, 'Kind = "service-defaults"\nName = "web"\nProtocol = "grpc"\n'),
      { code: 0, out: 'Config entry written: service-defaults/web\n', err: '' });
    // The file's Namespace wins over the flag.
    const file = join(dir, 'web.hcl');
    writeFileSync(file, 'Kind = "service-defaults"\nName = "web"\nNamespace = "team-b"\nProtocol = "tcp"\n');
    assert.equal((await cli(['config', 'write', '-namespace', 'team-a', file])).code, 0);

    const read = async (argv: string[], env?: NodeJS.ProcessEnv) => {
      const r = await cli(['config', 'read', '-kind', 'service-defaults', '-name', 'web', ...argv], env);
      return r.code === 0 ? JSON.parse(r.out).Protocol : r.err;
    };
    assert.equal(await read(['-namespace', 'team-a']), 'grpc');
    assert.equal(await read([], { CONSUL_NAMESPACE: 'team-b' }), 'tcp');
    assert.equal(await read(['-namespace=team-a'], { CONSUL_NAMESPACE: 'team-b' }), 'grpc', 'the flag wins over the variable');
    assert.match(await read([]), /Config entry not found for "service-defaults" \/ "web"/);

    assert.equal((await cli(['config', 'list', '-kind', 'service-defaults', '-namespace', 'team-a'])).out, 'web\n');
    assert.equal((await cli(['config', 'list', '-kind', 'service-defaults'])).out, '');
    assert.deepEqual(await cli(['config', 'delete', '-kind', 'service-defaults', '-name', 'web', '-namespace', 'team-a']),
      { code: 0, out: 'Config entry deleted: service-defaults/web\n', err: '' });
    assert.match(await read(['-namespace', 'team-a']), /Config entry not found/);
    assert.equal(await read(['-namespace', 'team-b']), 'tcp');

    const missing = await cli(['config', 'write', '-namespace', 'nope', '-'], {}, 'Kind = "service-defaults"\nName = "x"\n');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /Namespace "nope" does not exist/);
  });

  test('intentions: checked, listed, read, matched and deleted in the -namespace', async () => {
    const entry = 'Kind = "service-intentions"\nName = "db"\nSources = [{ Name = "web", Action = "deny" }]\n';
    assert.equal((await cli(['config', 'write', '-'], { CONSUL_NAMESPACE: 'team-a' }, entry)).code, 0);
    assert.equal((await cli(['intention', 'check', '-namespace', 'team-a', 'web', 'db'])).out, 'Denied\n');
    const listed = await cli(['intention', 'list', '-namespace', 'team-a']);
    assert.match(listed.out, /web\s+deny\s+db/);
    assert.doesNotMatch((await cli(['intention', 'list'])).out, /web\s+deny\s+db/);
    const get = await cli(['intention', 'get', '-namespace', 'team-a', 'web', 'db']);
    assert.match(get.out, /Action:\s+deny/);
    assert.equal((await cli(['intention', 'get', 'web', 'db'])).code, 1, 'the default namespace has no such intention');
    assert.match((await cli(['intention', 'match', '-namespace', 'team-a', '-destination', 'db'])).out, /^team-a\/web => team-a\/db \(deny\)$/m);
    assert.equal((await cli(['intention', 'delete', '-namespace', 'team-a', 'web', 'db'])).code, 0);
    assert.equal((await cli(['intention', 'get', '-namespace', 'team-a', 'web', 'db'])).code, 1);
  });

  test('catalog services and nodes: -namespace picks the services, -partition the nodes', async () => {
    const reg = await call('PUT', '/v1/catalog/register', ROOT, {
      Node: 'ext-1', Address: '10.0.0.1', Service: { Service: 'billing', Namespace: 'team-a', Tags: ['v1'] },
    });
    assert.equal(reg.status, 200, reg.text);
    assert.equal((await cli(['catalog', 'services', '-tags', '-namespace', 'team-a'])).out, 'billing      v1\n');
    assert.doesNotMatch((await cli(['catalog', 'services'])).out, /billing/);
    assert.equal((await cli(['catalog', 'services'], { CONSUL_NAMESPACE: 'team-a' })).out, 'billing\n');
    const nodes = await cli(['catalog', 'nodes', '-partition', 'default', '-service', 'billing'], { CONSUL_NAMESPACE: 'team-a' });
    assert.match(nodes.out, /^ext-1\s/m);
  });

  test('acl policy, role and token commands work in the -namespace', async () => {
    const policy = await cli(['acl', 'policy', 'create', '-namespace', 'team-a', '-name', 'readers', '-rules', 'key_prefix "" { policy = "read" }', '-format', 'json']);
    assert.equal(policy.code, 0, policy.err);
    assert.deepEqual([JSON.parse(policy.out).Name, JSON.parse(policy.out).Namespace], ['readers', 'team-a']);
    const names = async (argv: string[], env?: NodeJS.ProcessEnv) => JSON.parse((await cli([...argv, '-format', 'json'], env)).out).map((p: { Name: string }) => p.Name);
    assert.ok((await names(['acl', 'policy', 'list', '-namespace', 'team-a'])).includes('readers'));
    assert.ok(!(await names(['acl', 'policy', 'list'])).includes('readers'), 'the default namespace does not list it');
    assert.ok((await names(['acl', 'policy', 'list'], { CONSUL_NAMESPACE: 'team-a' })).includes('readers'));
    assert.equal(JSON.parse((await cli(['acl', 'policy', 'read', '-namespace', 'team-a', '-name', 'readers', '-format', 'json'])).out).Name, 'readers');
    assert.equal((await cli(['acl', 'policy', 'read', '-name', 'readers'])).code, 1);

    const role = await cli(['acl', 'role', 'create', '-namespace', 'team-a', '-name', 'r1', '-policy-name', 'readers', '-format', 'json']);
    assert.equal(role.code, 0, role.err);
    assert.equal(JSON.parse(role.out).Namespace, 'team-a');
    const token = await cli(['acl', 'token', 'create', '-namespace', 'team-a', '-role-name', 'r1', '-format', 'json']);
    assert.equal(token.code, 0, token.err);
    const { AccessorID, Namespace } = JSON.parse(token.out);
    assert.equal(Namespace, 'team-a');
    const tokens = async (argv: string[]) => JSON.parse((await cli(['acl', 'token', 'list', ...argv, '-format', 'json'])).out).map((t: { AccessorID: string }) => t.AccessorID);
    assert.ok((await tokens(['-namespace', 'team-a'])).includes(AccessorID));
    assert.ok(!(await tokens([])).includes(AccessorID));
    assert.equal((await cli(['acl', 'token', 'delete', '-namespace', 'team-a', '-id', AccessorID])).code, 0);
    assert.ok(!(await tokens(['-namespace', 'team-a'])).includes(AccessorID));
  });

  // Handlers other slices are still converting: the command either works in the namespace or the
  // agent refuses the ?ns= it sent with CE's text; either way the parameter reached the server.
  const inNamespaceOrRefused = (r: { code: number; err: string }, ok: () => Promise<void>) =>
    r.code === 0 ? ok() : assert.match(r.err, /Invalid query parameter: "ns"/);

  test('services register/deregister and intention create send -namespace to the agent', async () => {
    const reg = await cli(['services', 'register', '-namespace', 'team-a', '-name', 'cli-web']);
    assert.deepEqual(reg, { code: 0, out: 'Registered service: cli-web\n', err: '' });
    const svc = await call('GET', '/v1/agent/service/cli-web?ns=team-a', ROOT);
    assert.equal(svc.json.Namespace, 'team-a');
    assert.equal((await call('GET', '/v1/agent/service/cli-web', ROOT)).status, 404);
    assert.equal((await cli(['services', 'deregister', '-namespace', 'team-a', '-id', 'cli-web'])).code, 0);
    const again = await cli(['services', 'deregister', '-id', 'cli-web'], { CONSUL_NAMESPACE: 'team-a' });
    assert.equal(again.code, 1);
    assert.match(again.err, /^Error deregistering service "": Unexpected response code: 404 \(Unknown service ID "default\/team-a\/cli-web"\./);

    // A definition file's namespace registers there; deregistering the same file asks in the
    // flags' namespace (Consul's command ignores the file's), so it needs -namespace to find it.
    const file = join(dir, 'file-web.hcl');
    writeFileSync(file, 'service {\n  name = "file-web"\n  namespace = "team-a"\n}\n');
    assert.equal((await cli(['services', 'register', file])).code, 0);
    assert.equal((await call('GET', '/v1/agent/service/file-web?ns=team-a', ROOT)).status, 200);
    const wrong = await cli(['services', 'deregister', file]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /^Error deregistering service "file-web": Unexpected response code: 404 \(Unknown service ID "file-web"\./);
    assert.equal((await call('GET', '/v1/agent/service/file-web?ns=team-a', ROOT)).status, 200, 'still registered');
    assert.deepEqual(await cli(['services', 'deregister', '-namespace', 'team-a', file]), { code: 0, out: 'Deregistered service: file-web\n', err: '' });
    assert.equal((await call('GET', '/v1/agent/service/file-web?ns=team-a', ROOT)).status, 404);
    const ixn = await cli(['intention', 'create', '-namespace', 'team-b', 'api', 'cache']);
    await inNamespaceOrRefused(ixn, async () => {
      assert.equal((await cli(['intention', 'check', '-namespace', 'team-b', 'api', 'cache'])).out, 'Allowed\n');
    });
  });

  test('API Lock and Semaphore with a namespace keep their keys and sessions in it', async () => {
    const client = new ConsulClient({ address: dev.httpAddr, token: ROOT, env: {} });
    try {
      const lock = client.lockOpts({ key: 'locks/leader', namespace: 'team-a', value: 'me' });
      assert.ok(await lock.lock());
      const held = await call('GET', '/v1/kv/locks/leader?ns=team-a', ROOT);
      assert.equal(held.status, 200);
      const session = held.json[0].Session as string;
      assert.equal((await call('GET', `/v1/session/info/${session}?ns=team-a`, ROOT)).json[0].Namespace, 'team-a');
      assert.equal((await call('GET', '/v1/kv/locks/leader', ROOT)).status, 404, 'nothing in the default namespace');
      // The default namespace's lock of the same key is a different lock.
      const other = client.lockOpts({ key: 'locks/leader', lockTryOnce: true, lockWaitTime: 100 });
      assert.ok(await other.lock());
      await other.unlock();
      await lock.unlock();
      await lock.destroy();
      assert.equal((await call('GET', '/v1/kv/locks/leader?ns=team-a', ROOT)).status, 404);

      const sem = client.semaphoreOpts({ prefix: 'sem/pool', limit: 2, namespace: 'team-b' });
      assert.ok(await sem.acquire());
      const keys = await call('GET', '/v1/kv/sem/pool?recurse&ns=team-b', ROOT);
      assert.equal(keys.json.length, 2, 'the contender entry and .lock');
      assert.equal((await call('GET', '/v1/kv/sem/pool?recurse', ROOT)).status, 404);
      await sem.release();
      await sem.destroy();
      assert.equal((await call('GET', '/v1/kv/sem/pool?recurse&ns=team-b', ROOT)).status, 404);
    } finally {
      client.close();
    }
  });
});
