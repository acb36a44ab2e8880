import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsulClient } from '../../api/index.ts';
import { silentLogger } from '../../log.ts';
import { InboundPolicy } from './l7-inbound-policy.ts';
import type { L7Request } from './l7-route.ts';

const TD = 'td.consul';
const WEB = { uri: `spiffe://${TD}/ns/default/dc/dc1/svc/web`, serial: '01' };

/**
 * A client answering the two watches once each (later blocking reads wait until aborted), and
 * ConnectAuthorize as an agent with `defaultAllow` would for a caller no intention names.
 */
function fakeClient(protocol: string, intentions: unknown[], defaultAllow: boolean) {
  const authorized: string[] = [];
  const client = {
    async json(spec: { method: string; path: string; query?: Record<string, string>; options?: { signal?: AbortSignal; index?: number }; json?: { ClientCertURI: string } }) {
      if (spec.path === '/v1/agent/connect/authorize') {
        const uri = spec.json!.ClientCertURI;
        authorized.push(uri);
        const named = intentions.some((i) => uri.endsWith(`/svc/${(i as { SourceName: string }).SourceName}`) || (i as { SourceName: string }).SourceName === '*');
        return { data: named ? { Authorized: false, Reason: 'Matched L7 intention: …' } : { Authorized: defaultAllow, Reason: 'Default behavior configured by ACLs' }, meta: { index: 0 } };
      }
      if (spec.options?.index) {
        return new Promise((_, reject) => spec.options?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
      }
      const data = spec.path.startsWith('/v1/discovery-chain/') ? { Chain: { Protocol: protocol } } : { api: intentions };
      return { data, meta: { index: 5 } };
    },
  } as unknown as ConsulClient;
  return { client, authorized };
}

const req = (method: string, path: string): L7Request => ({ method, path, query: new URLSearchParams(), headers: {} });
const l7 = { SourceNS: 'default', SourceName: 'web', DestinationNS: 'default', DestinationName: 'api', SourceType: 'consul', Precedence: 9, CreateIndex: 1, ModifyIndex: 1,
  Permissions: [{ Action: 'allow', HTTP: { PathPrefix: '/public', Methods: ['GET'] } }] };

test('an L7 intention without a matching permission falls through to the default, asked of the agent for an unnamed caller once', async () => {
  for (const dflt of [true, false]) {
    const { client, authorized } = fakeClient('http', [l7], dflt);
    const p = new InboundPolicy(client, 'api', () => TD, silentLogger());
    try {
      p.start();
      await p.ready();
      assert.equal(p.isHttp, true);
      assert.equal(await p.allows(WEB, req('GET', '/public/x')), true);
      assert.equal(await p.allows(WEB, req('POST', '/public')), dflt);
      assert.equal(await p.allows(WEB, req('GET', '/admin')), dflt);
      // web is named by an intention, so the agent is asked about a caller that is not.
      assert.deepEqual(authorized, [`spiffe://${TD}/ns/default/dc/dc1/svc/proconsul-intention-default-probe`]);
    } finally {
      p.close();
    }
  }
});

test('a tcp service is not http; before the intentions are read nothing is allowed', async () => {
  const { client } = fakeClient('tcp', [], true);
  const p = new InboundPolicy(client, 'api', () => TD, silentLogger());
  assert.equal(await p.allows(WEB, req('GET', '/')), false);
  p.start();
  await p.ready();
  assert.equal(p.isHttp, false);
  p.close();
});
