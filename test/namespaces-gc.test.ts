// Deleted namespaces leave nothing behind on the server: after many namespaces are created, given
// KV entries, config entries, catalog services and blocking readers, and deleted (the leader's reaper purging them),
// their per-namespace KV, config entry and catalog tables and notifier tables are gone once another
// namespace's are made.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { httpCaller, type HttpCall } from './support/acl.ts';
import { allConfigEntryTables, allKvs, namespaceCatalogs } from '../src/state/index.ts';

/** Resolves when `probe` holds, polling the agent's replica (the reaper runs in the background). */
async function until(probe: () => boolean): Promise<void> {
  for (let i = 0; i < 4_000; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition never held');
}

describe('per-namespace tables of deleted namespaces', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    dev = await startDevAgent();
    call = httpCaller(() => dev.httpAddr);
  });
  after(() => dev.stop());

  test('are dropped after the reaper purges each namespace and another namespace is written to', async () => {
    const { replica } = dev.agent;
    const churn = (names: string[]) => names.filter((n) => n.includes('churn-'));
    for (let i = 0; i < 15; i++) {
      const ns = `churn-${i}`;
      assert.equal((await call('PUT', '/v1/namespace', '', { Name: ns })).status, 200);
      assert.equal((await call('PUT', `/v1/kv/app/cfg?ns=${ns}`, '', 'x')).text, 'true');
      assert.equal((await call('PUT', `/v1/config?ns=${ns}`, '', { Kind: 'service-defaults', Name: 'web', Protocol: 'http' })).status, 200);
      const svc = { Node: 'n1', Address: '10.0.0.1', Service: { ID: 'web-1', Service: 'web', Namespace: ns }, Check: { CheckID: 'c', ServiceID: 'web-1', Status: 'passing', Namespace: ns } };
      assert.equal((await call('PUT', '/v1/catalog/register', '', svc)).text, 'true');
      // Blocking readers of its tables, timed out (they leave their notifier tables empty).
      const health = await call('GET', `/v1/health/service/web?ns=${ns}`);
      assert.equal((await call('GET', `/v1/health/service/web?ns=${ns}&index=${health.headers.get('x-consul-index')}&wait=10ms`)).status, 200);
      const kv = await call('GET', `/v1/kv/app/cfg?ns=${ns}`);
      const index = kv.headers.get('x-consul-index');
      assert.equal((await call('GET', `/v1/kv/app/cfg?ns=${ns}&index=${index}&wait=10ms`)).status, 200);
      assert.equal((await call('GET', `/v1/config/service-defaults?ns=${ns}&index=${index}&wait=10ms`)).status, 200);
      assert.equal((await call('DELETE', `/v1/namespace/${ns}`)).status, 200);
      await until(() => !replica.tenants.namespaces.namespace({ partition: 'default', namespace: ns }));
    }
    assert.equal((await call('PUT', '/v1/namespace', '', { Name: 'after' })).status, 200);
    assert.equal((await call('PUT', '/v1/kv/k?ns=after', '', 'y')).text, 'true');
    assert.equal((await call('PUT', '/v1/config?ns=after', '', { Kind: 'service-defaults', Name: 'web' })).status, 200);
    assert.equal((await call('PUT', '/v1/catalog/register', '', { Node: 'n1', Address: '10.0.0.1', Service: { ID: 'web-1', Service: 'web', Namespace: 'after' } })).text, 'true');
    assert.deepEqual(namespaceCatalogs(replica, 'default').map((e) => e.ent.namespace), ['after']);
    const kvTenants = allKvs(replica).slice(1).map((e) => e.ent!.namespace);
    assert.deepEqual(kvTenants, ['after']);
    const configTenants = allConfigEntryTables(replica).slice(1).map((e) => e.ent!.namespace);
    assert.deepEqual(churn(configTenants), []);
    assert.deepEqual(churn(replica.notifier.tableNames()), [], 'no notifier table of a deleted namespace');
  });
});
