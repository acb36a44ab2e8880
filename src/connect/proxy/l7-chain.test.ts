import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsulClient } from '../../api/index.ts';
import type { CompiledDiscoveryChain, DiscoveryTarget } from '../discovery-chain/index.ts';
import { silentLogger } from '../../log.ts';
import { upstreamDefaults } from './config.ts';
import { ChainWatch } from './l7-chain.ts';
import { healthy } from './l7-targets.ts';

/**
 * A client whose blocking reads answer from queues keyed by path and filter (`<path>|<filter>`):
 * a read waits until its key has an answer (or is aborted); an Error answer fails the read.
 */
function fakeClient() {
  const queues = new Map<string, unknown[]>();
  let waiting: (() => void)[] = [];
  const calls: string[] = [];
  let index = 0;
  const client = {
    async json(spec: { method: string; path: string; query?: Record<string, unknown>; options?: { signal?: AbortSignal }; json?: unknown }) {
      calls.push(`${spec.method} ${spec.path} ${JSON.stringify(spec.query ?? {})}${spec.json ? ` ${JSON.stringify(spec.json)}` : ''}`);
      const key = `${spec.path}|${String(spec.query?.filter ?? '')}`;
      for (;;) {
        const q = queues.get(key) ?? [];
        if (q.length > 0) {
          const data = q.shift();
          if (data instanceof Error) throw data;
          return { data, meta: { index: ++index, knownLeader: true, lastContact: 0 } };
        }
        await new Promise<void>((resolve, reject) => {
          waiting.push(resolve);
          spec.options?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        });
      }
    },
  } as unknown as ConsulClient;
  const answer = (key: string, data: unknown) => {
    queues.set(key, [...(queues.get(key) ?? []), data]);
    const woken = waiting;
    waiting = [];
    for (const w of woken) w();
  };
  /** Resolves once every answer queued for `key` has been taken, and the taker has had a turn. */
  const drained = async (key: string) => {
    while ((queues.get(key)?.length ?? 0) > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return { client, answer, calls, drained };
}

/** A client whose reads ignore their signal and wait for the test to answer them (`pending`). */
function stubbornClient() {
  const calls: string[] = [];
  const pending: ((data: unknown) => void)[] = [];
  const client = {
    json(spec: { method: string; path: string }) {
      calls.push(`${spec.method} ${spec.path}`);
      return new Promise((resolve) => pending.push((data) => resolve({ data, meta: { index: calls.length, knownLeader: true, lastContact: 0 } })));
    },
  } as unknown as ConsulClient;
  return { client, calls, pending };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function target(subset: string, filter: string): DiscoveryTarget {
  const id = `${subset}.api.default.default.dc1`;
  return { ID: id, Service: 'api', ServiceSubset: subset, Namespace: 'default', Partition: 'default', Datacenter: 'dc1', MeshGateway: {}, Subset: { Filter: filter }, TransparentProxy: {}, SNI: '', Name: id };
}

function chain(protocol: string, targets: DiscoveryTarget[]): { Chain: CompiledDiscoveryChain } {
  return { Chain: { ServiceName: 'api', Namespace: 'default', Partition: 'default', Datacenter: 'dc1', Protocol: protocol, Targets: Object.fromEntries(targets.map((t) => [t.ID, t])) } };
}

const entry = (port: number) => ({ Node: { Node: 'n', Address: '10.0.0.1', Datacenter: 'dc1' }, Service: { ID: `p${port}`, Service: 'api-sidecar-proxy', Kind: 'connect-proxy', Address: '', Port: port } });

test('an http chain watches each target with its subset filter; a pick fails over in target order', async () => {
  const { client, answer, calls } = fakeClient();
  const w = new ChainWatch(client, upstreamDefaults({ DestinationName: 'api' }), () => 'td.consul', silentLogger());
  try {
    w.start();
    answer('/v1/discovery-chain/api|', chain('http', [target('v1', 'Service.Meta.version == v1'), target('v2', 'Service.Meta.version == v2')]));
    await w.ready();
    assert.equal(w.isL7, true);
    answer('/v1/health/connect/api|Service.Meta.version == v1', []);
    answer('/v1/health/connect/api|Service.Meta.version == v2', [entry(2)]);
    // pick waits for each target's first read (bounded by the last argument).
    const picked = await w.pick([target('v1', ''), target('v2', '')], () => 0, 60_000);
    assert.deepEqual(picked?.to, { host: '10.0.0.1', port: 2 }, 'v1 has no instance: v2 answers');
    assert.equal(picked?.instances.certUri(), 'spiffe://td.consul/ns/default/dc/dc1/svc/api');
    assert.ok(calls.includes('GET /v1/health/connect/api {"filter":"Service.Meta.version == v1"}'), calls.join('\n'));
    assert.ok(calls.includes('GET /v1/health/connect/api {"filter":"Service.Meta.version == v2"}'), calls.join('\n'));
  } finally {
    w.close();
  }
});

test('a tcp chain is not L7 and watches no target; an upstream protocol is asked for as an override', async () => {
  const { client, answer, calls } = fakeClient();
  const w = new ChainWatch(client, upstreamDefaults({ DestinationName: 'api', Protocol: 'http', Datacenter: 'dc2' }), () => 'td', silentLogger());
  try {
    w.start();
    answer('/v1/discovery-chain/api|', chain('tcp', [target('v1', '')]));
    await w.ready();
    assert.equal(w.isL7, false);
    assert.equal(w.instances('v1.api.default.default.dc1'), undefined);
    assert.equal(calls[0], 'POST /v1/discovery-chain/api {"compile-dc":"dc2"} {"OverrideProtocol":"http"}');
  } finally {
    w.close();
  }
});

test('a new chain drops targets it no longer names and watches a target whose subset changed anew', async () => {
  const { client, answer } = fakeClient();
  const w = new ChainWatch(client, upstreamDefaults({ DestinationName: 'api' }), () => 'td', silentLogger());
  try {
    w.start();
    answer('/v1/discovery-chain/api|', chain('http', [target('v1', 'a'), target('v2', 'b')]));
    await w.ready();
    const before = w.instances('v1.api.default.default.dc1');
    assert.ok(before && w.instances('v2.api.default.default.dc1'));
    const changed = new Promise<void>((resolve) => { w.onChange = resolve; });
    answer('/v1/discovery-chain/api|', chain('http', [target('v1', 'c')]));
    await changed;
    assert.equal(w.instances('v2.api.default.default.dc1'), undefined);
    const after = w.instances('v1.api.default.default.dc1');
    assert.ok(after && after !== before);
    assert.equal(after.target.Subset.Filter, 'c');
  } finally {
    w.close();
  }
});

test("a resolver's new ConnectTimeout applies to its target without a restart", async () => {
  const { client, answer } = fakeClient();
  const w = new ChainWatch(client, upstreamDefaults({ DestinationName: 'api' }), () => 'td', silentLogger());
  try {
    w.start();
    answer('/v1/discovery-chain/api|', chain('http', [target('v1', '')]));
    await w.ready();
    assert.equal(w.instances('v1.api.default.default.dc1')?.connectTimeoutMs, 5_000);
    const changed = new Promise<void>((resolve) => { w.onChange = resolve; });
    answer('/v1/discovery-chain/api|', chain('http', [{ ...target('v1', ''), ConnectTimeout: '9s' }]));
    await changed;
    assert.equal(w.instances('v1.api.default.default.dc1')?.connectTimeoutMs, 9_000);
  } finally {
    w.close();
  }
});

test('instances with warnings take traffic and critical ones do not, as Consul gives Envoy its endpoints; an OnlyPassing subset is read passing-only', async () => {
  const e = (checks: string[], weights?: { Passing: number; Warning: number }) => ({ ...entry(1), Service: { ...entry(1).Service, Weights: weights }, Checks: checks.map((Status) => ({ Status })) });
  assert.equal(healthy(e(['passing', 'warning'])), true);
  assert.equal(healthy(e(['passing', 'critical'])), false);
  assert.equal(healthy(e(['warning'], { Passing: 1, Warning: 0 })), false, 'a warning weight of 0 takes no traffic');
  assert.equal(healthy(e(['passing'], { Passing: 0, Warning: 1 })), false);
  assert.equal(healthy(e([], { Passing: 3, Warning: 1 })), true);

  const { client, answer, calls } = fakeClient();
  const w = new ChainWatch(client, upstreamDefaults({ DestinationName: 'api' }), () => 'td', silentLogger());
  try {
    w.start();
    const strict = { ...target('v1', 'Service.Meta.version == v1'), Subset: { Filter: 'Service.Meta.version == v1', OnlyPassing: true } };
    answer('/v1/discovery-chain/api|', chain('http', [strict, target('v2', 'Service.Meta.version == v2')]));
    await w.ready();
    answer('/v1/health/connect/api|Service.Meta.version == v1', []);
    answer('/v1/health/connect/api|Service.Meta.version == v2', [e(['warning']), { ...e(['critical']), Service: { ...entry(2).Service } }]);
    const picked = await w.pick([target('v2', '')], () => 0, 60_000);
    assert.deepEqual(picked?.to, { host: '10.0.0.1', port: 1 });
    assert.equal(w.instances('v2.api.default.default.dc1')?.entries.length, 1);
    assert.ok(calls.includes('GET /v1/health/connect/api {"passing":true,"filter":"Service.Meta.version == v1"}'), calls.join('\n'));
    assert.ok(calls.includes('GET /v1/health/connect/api {"filter":"Service.Meta.version == v2"}'), calls.join('\n'));
  } finally {
    w.close();
  }
});

test('a failed first chain read makes the watch ready with no chain, so connections take the L4 path', { timeout: 20_000 }, async () => {
  const { client, answer } = fakeClient();
  const w = new ChainWatch(client, upstreamDefaults({ DestinationName: 'api' }), () => 'td', silentLogger());
  try {
    w.start();
    answer('/v1/discovery-chain/api|', new Error('connection refused'));
    await w.ready();
    assert.equal(w.settled, true);
    assert.equal(w.chain, undefined);
    assert.equal(w.isL7, false);
  } finally {
    w.close();
  }
});

test('a failed read keeps the last chain and its target watches; a failed target read makes the target ready with no instance', { timeout: 20_000 }, async () => {
  const { client, answer, drained } = fakeClient();
  const w = new ChainWatch(client, upstreamDefaults({ DestinationName: 'api' }), () => 'td', silentLogger());
  try {
    w.start();
    answer('/v1/discovery-chain/api|', chain('http', [target('v1', 'a'), target('v2', 'b')]));
    await w.ready();
    const v1 = w.instances('v1.api.default.default.dc1');
    const before = w.chain;
    answer('/v1/discovery-chain/api|', new Error('connection refused'));
    await drained('/v1/discovery-chain/api|');
    assert.equal(w.chain, before, 'the last chain stays in use');
    assert.equal(w.isL7, true);
    assert.equal(w.instances('v1.api.default.default.dc1'), v1, 'its target watches stay');
    answer('/v1/health/connect/api|a', new Error('connection refused'));
    answer('/v1/health/connect/api|b', [entry(2)]);
    // A target that never became ready would hold the pick for the whole wait (past the test's timeout).
    const picked = await w.pick([target('v1', ''), target('v2', '')], () => 0, 60_000);
    assert.equal(v1?.settled, true);
    assert.deepEqual(v1?.entries, []);
    assert.deepEqual(picked?.to, { host: '10.0.0.1', port: 2 });
  } finally {
    w.close();
  }
});

test('close() while a chain read is in flight: the answer arriving afterwards starts no target watch', async () => {
  const { client, calls, pending } = stubbornClient();
  const w = new ChainWatch(client, upstreamDefaults({ DestinationName: 'api' }), () => 'td', silentLogger());
  let changes = 0;
  w.onChange = () => { changes++; };
  w.start();
  await tick();
  assert.equal(pending.length, 1);
  w.close();
  pending[0](chain('http', [target('v1', '')]));
  await tick();
  await tick();
  assert.equal(changes, 0);
  assert.equal(w.chain, undefined);
  assert.equal(w.instances('v1.api.default.default.dc1'), undefined);
  assert.deepEqual(calls, ['GET /v1/discovery-chain/api']);
});

test('the chain is read only once the local datacenter is known; close() before then reads nothing', async () => {
  let known!: () => void;
  const localDcKnown = new Promise<void>((resolve) => { known = resolve; });
  const { client, calls } = stubbornClient();
  const w = new ChainWatch(client, upstreamDefaults({ DestinationName: 'api' }), () => 'td', silentLogger(), () => 'dc1', localDcKnown);
  w.start();
  await tick();
  assert.deepEqual(calls, []);
  known();
  await tick();
  assert.deepEqual(calls, ['GET /v1/discovery-chain/api']);
  w.close();

  const other = stubbornClient();
  const w2 = new ChainWatch(other.client, upstreamDefaults({ DestinationName: 'api' }), () => 'td', silentLogger(), () => 'dc1', new Promise(() => undefined));
  w2.start();
  w2.close();
  await w2.ready();
  await tick();
  assert.deepEqual(other.calls, []);
});

test('a namespaced proxy reads an upstream naming `default` and its targets there, never in the client\'s namespace; a partition target expects its /ap/ SPIFFE ID', async () => {
  const { client, answer } = fakeClient();
  // The options each read named (the client puts its own CONSUL_NAMESPACE where a read names none).
  const named: string[] = [];
  const json = client.json.bind(client);
  (client as unknown as { json: typeof json }).json = ((spec: { path: string; options?: { namespace?: string; partition?: string } }) => {
    named.push(`${spec.path} ns=${spec.options?.namespace ?? ''} ap=${spec.options?.partition ?? ''}`);
    return json(spec as Parameters<typeof json>[0]);
  }) as typeof json;
  const u = upstreamDefaults({ DestinationName: 'api', DestinationNamespace: 'default' });
  const w = new ChainWatch(client, u, () => 'td.consul', silentLogger(), () => '', Promise.resolve(), { namespace: 'team-a', partition: 'default' });
  try {
    w.start();
    const t = { ...target('v1', ''), Partition: 'p1' };
    answer('/v1/discovery-chain/api|', chain('http', [t]));
    await w.ready();
    assert.equal(named[0], '/v1/discovery-chain/api ns=default ap=default');
    answer('/v1/health/connect/api|', [entry(2)]);
    await w.instances(t.ID)!.ready();
    assert.ok(named.includes('/v1/health/connect/api ns=default ap=p1'), named.join('\n'));
    assert.equal(w.instances(t.ID)!.certUri(), 'spiffe://td.consul/ap/p1/ns/default/dc/dc1/svc/api');
  } finally {
    w.close();
  }
});
