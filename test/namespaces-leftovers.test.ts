// Namespaces in the reads slices 3, 5 and 7 left default-only: ?merge-central-config on catalog and
// health reads in a namespace (that namespace's service-defaults), peer imports in a namespace
// (`.peer` DNS, prepared queries, the UI's listings) and /v1/internal/ui/* reads with ?ns=.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAclAgent, httpCaller, ROOT, type HttpCall } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { encodeRecord, namespaceKey } from '../src/state/index.ts';

describe('namespaced reads left over by slices 3, 5 and 7', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    dev = await startAclAgent();
    call = httpCaller(() => dev.httpAddr);
    const res = await dev.agent.store.txn({ success: [
      { type: 'put', key: namespaceKey({ partition: 'default', namespace: 'team-a' }), value: encodeRecord({ Name: 'team-a' }) },
      { type: 'put', key: namespaceKey({ partition: 'default', namespace: 'team-b' }), value: encodeRecord({ Name: 'team-b' }) },
    ] });
    assert.ok(res.succeeded);
  });
  after(() => dev.stop());

  test('?merge-central-config in a namespace merges that namespace\'s service-defaults', async () => {
    const put = (body: object) => call('PUT', '/v1/config', ROOT, body);
    assert.equal((await put({ Kind: 'service-defaults', Name: 'pay', Protocol: 'http', Namespace: 'team-a' })).status, 200);
    assert.equal((await put({ Kind: 'service-defaults', Name: 'ledger', Protocol: 'grpc', Namespace: 'team-a' })).status, 200);
    assert.equal((await put({ Kind: 'service-defaults', Name: 'pay', Protocol: 'http2' })).status, 200);
    const reg = await call('PUT', '/v1/catalog/register', ROOT, {
      Node: 'mc1', Address: '10.9.0.1',
      Service: { ID: 'pay-proxy', Service: 'pay-proxy', Kind: 'connect-proxy', Port: 21000, Namespace: 'team-a',
        Proxy: { DestinationServiceName: 'pay', DestinationServiceID: 'pay', Upstreams: [{ DestinationName: 'ledger', LocalBindPort: 9000 }] } },
    });
    assert.equal(reg.status, 200, reg.text);
    const plain = await call('GET', '/v1/catalog/service/pay-proxy?ns=team-a', ROOT);
    assert.equal(plain.json[0].ServiceProxy.Config, undefined);
    const merged = await call('GET', '/v1/catalog/service/pay-proxy?ns=team-a&merge-central-config', ROOT);
    assert.deepEqual(merged.json[0].ServiceProxy.Config, { protocol: 'http' });
    assert.deepEqual(merged.json[0].ServiceProxy.Upstreams[0].Config, { protocol: 'grpc' });
    assert.equal(merged.json[0].Namespace, 'team-a');
    const health = await call('GET', '/v1/health/service/pay-proxy?ns=team-a&merge-central-config', ROOT);
    assert.deepEqual(health.json[0].Service.Proxy.Config, { protocol: 'http' });
    const onNode = await call('GET', '/v1/catalog/node-services/mc1?ns=team-a&merge-central-config', ROOT);
    assert.deepEqual(onNode.json.Services[0].Proxy.Config, { protocol: 'http' });
    assert.equal(onNode.json.Services[0].Namespace, 'team-a');
    // A blocking merged read in the namespace wakes on its namespace's entries.
    const index = Number(merged.headers.get('X-Consul-Index'));
    const woken = call('GET', `/v1/catalog/service/pay-proxy?ns=team-a&merge-central-config&index=${index}&wait=10s`, ROOT);
    assert.equal((await put({ Kind: 'service-defaults', Name: 'ledger', Protocol: 'http', Namespace: 'team-a' })).status, 200);
    assert.deepEqual((await woken).json[0].ServiceProxy.Upstreams[0].Config, { protocol: 'http' });
  });
});
