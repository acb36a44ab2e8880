// The sameness-group set-up Consul Enterprise's acceptance tests use, on two real dev agents: dc1
// (agent A) with partition ap1, both with namespace ns2 holding `static-server` (n-default
// 10.0.0.1, n-ap1 10.1.0.1); ap1 exports it to the default partition; dc2 (agent B, n-b 10.2.0.1)
// exports it to A over the peering `peer-b`; A's default partition has group `mine`
// (DefaultForFailover: default, ap1, peer-b) and group `off` (not DefaultForFailover).
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './agent.ts';
import { httpCaller, type HttpCall } from './acl.ts';
import { until } from './wait.ts';

/** The two agents and helpers to change what they hold. */
export interface SamenessClusters {
  a: DevAgent;
  b: DevAgent;
  callA: HttpCall;
  callB: HttpCall;
  /** A request that must answer 200; its JSON. */
  ok(call: HttpCall, method: string, path: string, body?: unknown): Promise<any>;
  /** Sets the `alive` check of static-server on A's node `node` (of `partition`, else the default one). */
  setCheck(node: string, status: string, partition?: string): Promise<unknown>;
  stop(): Promise<void>;
}

async function ok(call: HttpCall, method: string, path: string, body?: unknown): Promise<any> {
  const r = await call(method, path, '', body);
  assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
  return r.json;
}

function register(call: HttpCall, node: string, address: string, partition?: string): Promise<unknown> {
  return ok(call, 'PUT', '/v1/catalog/register', {
    Node: node, Address: address, ...(partition ? { Partition: partition } : {}),
    Service: { ID: 'static-server', Service: 'static-server', Port: 8080, Namespace: 'ns2' },
    Check: { CheckID: 'alive', ServiceID: 'static-server', Status: 'passing', Namespace: 'ns2' },
  });
}

/** Starts both agents (A with the DNS listener when `dns`), fills them in and waits for B's import. */
export async function startSamenessClusters(opts: { dns?: boolean } = {}): Promise<SamenessClusters> {
  const dnsAddrs = opts.dns ? { dnsAddrs: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 0 }] } : {};
  const a = await startDevAgent({ config: { datacenter: 'dc1', primaryDatacenter: 'dc1', nodeName: 'node-a', ...dnsAddrs } });
  const b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2', nodeName: 'node-b' } });
  const callA = httpCaller(() => a.httpAddr);
  const callB = httpCaller(() => b.httpAddr);
  const stop = async () => {
    await a.stop();
    await b.stop();
  };
  try {
    await ok(callA, 'PUT', '/v1/partition', { Name: 'ap1' });
    await ok(callA, 'PUT', '/v1/namespace', { Name: 'ns2' });
    await ok(callA, 'PUT', '/v1/namespace?partition=ap1', { Name: 'ns2' });
    await ok(callB, 'PUT', '/v1/namespace', { Name: 'ns2' });
    await register(callA, 'n-default', '10.0.0.1');
    await register(callA, 'n-ap1', '10.1.0.1', 'ap1');
    await register(callB, 'n-b', '10.2.0.1');
    await ok(callA, 'PUT', '/v1/config?partition=ap1', {
      Kind: 'exported-services', Name: 'ap1', Services: [{ Name: 'static-server', Namespace: 'ns2', Consumers: [{ Partition: 'default' }] }],
    });
    await ok(callB, 'PUT', '/v1/config', {
      Kind: 'exported-services', Name: 'default', Services: [{ Name: 'static-server', Namespace: 'ns2', Consumers: [{ Peer: 'to-a' }] }],
    });
    const { PeeringToken } = await ok(callB, 'POST', '/v1/peering/token', { PeerName: 'to-a' });
    await ok(callA, 'POST', '/v1/peering/establish', { PeerName: 'peer-b', PeeringToken });
    await until('B\'s static-server imported into ns2', 15_000, async () =>
      ((await callA('GET', '/v1/health/service/static-server?peer=peer-b&ns=ns2')).json as unknown[] | null)?.length === 1);
    await ok(callA, 'PUT', '/v1/config', {
      Kind: 'sameness-group', Name: 'mine', DefaultForFailover: true, Members: [{ Partition: 'default' }, { Partition: 'ap1' }, { Peer: 'peer-b' }],
    });
    await ok(callA, 'PUT', '/v1/config', { Kind: 'sameness-group', Name: 'off', Members: [{ Partition: 'default' }] });
  } catch (err) {
    await stop();
    throw err;
  }
  const setCheck = (node: string, status: string, partition?: string) => ok(callA, 'PUT', '/v1/catalog/register', {
    Node: node, SkipNodeUpdate: true, ...(partition ? { Partition: partition } : {}),
    Check: { Node: node, CheckID: 'alive', ServiceID: 'static-server', Status: status, Namespace: 'ns2' },
  });
  return { a, b, callA, callB, ok, setCheck, stop };
}
