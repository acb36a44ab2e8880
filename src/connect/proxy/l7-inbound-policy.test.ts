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
function fakeClient(protocol: string, intentions: unknown[], defaultAllow: boolean, agentView: unknown[] = intentions) {
  const authorized: string[] = [];
  const client = {
    async json(spec: { method: string; path: string; query?: Record<string, string>; options?: { signal?: AbortSignal; index?: number }; json?: { ClientCertURI: string } }) {
      if (spec.path === '/v1/agent/connect/authorize') {
        const uri = spec.json!.ClientCertURI;
        authorized.push(uri);
        const named = agentView.find((i) => uri.endsWith(`/svc/${(i as { SourceName: string }).SourceName}`) || (i as { SourceName: string }).SourceName === '*') as { Permissions?: unknown[]; Action?: string } | undefined;
        if (named && !named.Permissions) return { data: { Authorized: named.Action === 'allow', Reason: 'Matched L4 intention: …' }, meta: { index: 0 } };
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

test('an agent answer matching an intention is not taken for the default (closed), nor is a caller asked about under a wildcard', async () => {
  // The agent already holds an allow naming the probe (newer than the watch); the default is deny.
  const probe = { ...l7, SourceName: 'proconsul-intention-default-probe', Permissions: undefined, Action: 'allow' };
  const { client } = fakeClient('http', [l7], false, [l7, probe]);
  const p = new InboundPolicy(client, 'api', () => TD, silentLogger());
  try {
    p.start();
    await p.ready();
    assert.equal(await p.allows(WEB, req('GET', '/admin')), false);
  } finally {
    p.close();
  }
  // A wildcard L4 allow below web's L7 intention: web's unmatched request gets the default (deny), never the wildcard's allow.
  const star = { ...l7, SourceName: '*', Precedence: 8, Permissions: undefined, Action: 'allow' };
  const w = fakeClient('http', [l7, star], false);
  const q = new InboundPolicy(w.client, 'api', () => TD, silentLogger());
  try {
    q.start();
    await q.ready();
    assert.equal(await q.allows(WEB, req('GET', '/admin')), false);
    assert.equal(await q.allows({ uri: `spiffe://${TD}/ns/default/dc/dc1/svc/other`, serial: '02' }, req('GET', '/admin')), true, 'the wildcard allows others');
    assert.deepEqual(w.authorized, []);
  } finally {
    q.close();
  }
});

test('ready() waits for both watches (each counted once), and a failed intentions read counts: the service is then http and allows nothing', { timeout: 20_000 }, async () => {
  const chains: ((index: number) => void)[] = [];
  let failIntentions!: () => void;
  const client = {
    json(spec: { path: string; options?: { signal?: AbortSignal } }) {
      return new Promise((resolve, reject) => {
        spec.options?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        if (spec.path === '/v1/connect/intentions/match') failIntentions = () => reject(new Error('connection refused'));
        else chains.push((index) => resolve({ data: { Chain: { Protocol: 'http' } }, meta: { index } }));
      });
    },
  } as unknown as ConsulClient;
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  const p = new InboundPolicy(client, 'api', () => TD, silentLogger());
  try {
    p.start();
    await tick();
    chains[0](5);
    await tick();
    chains[1](6);
    await tick();
    assert.equal(chains.length, 3);
    assert.equal(p.settled, false, 'two chain answers are not the intentions');
    failIntentions();
    await p.ready();
    assert.equal(p.isHttp, true);
    assert.equal(await p.allows(WEB, req('GET', '/')), false);
  } finally {
    p.close();
  }
});

test('a wildcard source of another namespace does not stop the default being asked of the agent for a default-namespace caller', async () => {
  // team-a/* names no caller here (callers are of the default namespace); the agent's default (allow) applies.
  const other = { ...l7, SourceNS: 'team-a', SourceName: '*', Precedence: 8, Permissions: undefined, Action: 'deny' };
  const { client, authorized } = fakeClient('http', [l7, other], true, [l7]);
  const p = new InboundPolicy(client, 'api', () => TD, silentLogger());
  try {
    p.start();
    await p.ready();
    assert.equal(await p.allows(WEB, req('GET', '/admin')), true);
    assert.equal(authorized.length, 1);
  } finally {
    p.close();
  }
});
